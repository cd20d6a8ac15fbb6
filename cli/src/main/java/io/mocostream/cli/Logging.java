package io.mocostream.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.TimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Where log lines go: a command's console is for its own output (one line per event), so by default
 * the console (stderr) only shows warnings and errors and the whole log goes to a daily file,
 * {@code logs/mocostream.<date>.log} ({@code MOCOSTREAM_LOG_DIR} moves it). Several processes
 * (producer, trainer, serve) in one directory share the file: prudent mode locks it per write, and
 * each line names the command and its pid. {@code --verbose} keeps the console as logback.xml sets
 * it (every line at the loggers' levels) and writes no file: what a container wants.
 */
final class Logging {
  static final String FILE_APPENDER = "FILE";
  private static final String CONSOLE_APPENDER = "ERR";
  static final String CUDA_PROBE_LOGGER = "ai.djl.util.cuda.CudaUtils";

  private Logging() {}

  static void configure(boolean verbose, String command) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return; // another SLF4J binding (an embedding application's) keeps its own setup
    }
    quietCudaProbeOnCpuNatives(ctx);
    if (verbose) {
      return;
    }
    Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root.getAppender(FILE_APPENDER) != null) {
      return; // configured already (several commands in one JVM, as in tests)
    }
    Path dir = Path.of(System.getenv().getOrDefault("MOCOSTREAM_LOG_DIR", "logs"));
    RollingFileAppender<ILoggingEvent> file = new RollingFileAppender<>();
    try {
      Files.createDirectories(dir);
      file.setContext(ctx);
      file.setName(FILE_APPENDER);
      file.setPrudent(
          true); // several processes, one file; prudent mode wants no <file>, the pattern names it
      TimeBasedRollingPolicy<ILoggingEvent> policy = new TimeBasedRollingPolicy<>();
      policy.setContext(ctx);
      policy.setParent(file);
      policy.setFileNamePattern(dir + "/mocostream.%d{yyyy-MM-dd}.log");
      policy.setMaxHistory(14);
      policy.setTotalSizeCap(FileSize.valueOf("2GB"));
      policy.start();
      file.setRollingPolicy(policy);
      PatternLayoutEncoder encoder = new PatternLayoutEncoder();
      encoder.setContext(ctx);
      encoder.setPattern(
          "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level "
              + command.replace("%", "")
              + "["
              + ProcessHandle.current().pid()
              + "] %logger{0} - %msg%n");
      encoder.start();
      file.setEncoder(encoder);
      file.start();
    } catch (Exception e) {
      file.stop();
    }
    if (!file.isStarted()) {
      // The log must go somewhere: keep it on the console rather than lose it.
      System.err.println(
          "mocostream: cannot write the log under "
              + dir.toAbsolutePath()
              + "; log lines stay on the console (set MOCOSTREAM_LOG_DIR, or --verbose)");
      return;
    }
    root.addAppender(file);
    Appender<ILoggingEvent> console = root.getAppender(CONSOLE_APPENDER);
    if (console != null) {
      ThresholdFilter warn = new ThresholdFilter();
      warn.setLevel("WARN");
      warn.start();
      console.addFilter(warn);
    }
  }

  /**
   * DJL's CudaUtils asks libcudart for the GPU count whenever the engine starts. On a machine with
   * the CUDA toolkit but no driver (a CPU box, a container with CUDA libraries) that fails and it
   * logs a WARN on every run: "Failed to detect GPU count: CUDA driver version is insufficient for
   * CUDA runtime version (35)". With the CPU build of libtorch on the classpath
   * (pytorch-native-cpu's pytorch.properties says flavor=cpu) no GPU can ever be used, so the
   * probe's failure says nothing: that one logger is raised to ERROR. A GPU build (no CPU native
   * jar) keeps the warning, and a GPU asked for on CPU natives still fails with its own clear error
   * (StreamTrainer).
   */
  static void quietCudaProbeOnCpuNatives(LoggerContext ctx) {
    java.util.Properties p = new java.util.Properties();
    try (java.io.InputStream in =
        Logging.class.getResourceAsStream("/native/lib/pytorch.properties")) {
      if (in == null) {
        return;
      }
      p.load(in);
    } catch (java.io.IOException e) {
      return;
    }
    if ("cpu".equals(p.getProperty("flavor"))) {
      ctx.getLogger(CUDA_PROBE_LOGGER).setLevel(ch.qos.logback.classic.Level.ERROR);
    }
  }
}
