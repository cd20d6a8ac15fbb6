package io.mocostream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Where log lines go once a command runs without --verbose: warnings and errors on the console,
 * everything in the log file (MOCOSTREAM_LOG_DIR, set to target/logs for the tests); and DJL's CUDA
 * probe says nothing on the CPU build.
 */
class LoggingTest {
  private static final String CUDA_PROBE_WARNING = "Failed to detect GPU count";

  @Test
  void withoutVerboseTheConsoleShowsWarningsAndTheFileEverything() throws Exception {
    // Any command that runs (this one fails at once: its key file is missing) sets logging up
    // first.
    CliRun r =
        CliRun.of(
            "versions",
            "--model",
            "m",
            "--trust",
            "/nonexistent/key.pub",
            "--bootstrap",
            "127.0.0.1:1");
    assertEquals(3, r.rc(), r.toString());

    String marker = "logging-test-" + System.nanoTime();
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream err = System.err;
    System.setErr(new PrintStream(console, true, StandardCharsets.UTF_8));
    try {
      org.slf4j.Logger log = LoggerFactory.getLogger("io.mocostream.cli.LoggingTest");
      log.info("{} info", marker);
      log.warn("{} warn", marker);
    } finally {
      System.setErr(err);
    }
    String shown = console.toString(StandardCharsets.UTF_8);
    assertTrue(shown.contains(marker + " warn"), shown);
    assertFalse(shown.contains(marker + " info"), shown);

    Path file =
        Path.of(System.getenv("MOCOSTREAM_LOG_DIR"), "mocostream." + LocalDate.now() + ".log");
    String logged = Files.readString(file);
    // Each line names the command (the first one this JVM ran) and the pid: several processes share
    // the file.
    assertTrue(
        java.util.regex.Pattern.compile(
                "INFO  [\\w-]+\\["
                    + ProcessHandle.current().pid()
                    + "\\] LoggingTest - "
                    + marker
                    + " info")
            .matcher(logged)
            .find(),
        logged);
    assertTrue(logged.contains(marker + " warn"), logged);
  }

  @Test
  void theCudaProbeIsQuietOnTheCpuBuild() {
    CliRun.of(
        "versions",
        "--model",
        "m",
        "--trust",
        "/nonexistent/key.pub",
        "--bootstrap",
        "127.0.0.1:1");
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger probe = ctx.getLogger(Logging.CUDA_PROBE_LOGGER);
    assertEquals(Level.ERROR, probe.getLevel(), "pytorch-native-cpu is on the test classpath");
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    probe.addAppender(seen);
    try {
      // On a box with the CUDA toolkit but no driver (as this one) the probe fails and would warn.
      int gpus = ai.djl.util.cuda.CudaUtils.getGpuCount();
      assertEquals(0, gpus);
    } finally {
      probe.detachAppender(seen);
    }
    assertTrue(
        seen.list.stream().noneMatch(e -> e.getFormattedMessage().contains(CUDA_PROBE_WARNING)),
        seen.list.toString());
  }
}
