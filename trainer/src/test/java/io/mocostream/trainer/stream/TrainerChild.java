package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.fail;

import io.mocostream.trainer.moco.MocoEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TrainerProcessMain} in a child JVM, followed through its protocol lines. Every child
 * gets the same PyTorch thread count as this JVM would use (results differ in the last bits between
 * thread counts).
 */
final class TrainerChild implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrainerChild.class);
  private static final int TAIL_LINES = 80;

  /**
   * One protocol line: its kind ({@code STEP}, {@code PUBLISHED}, ..., or {@code EOF}) and fields.
   */
  record Event(long nanos, String kind, List<String> fields) {
    long num(int i) {
      return Long.parseLong(fields.get(i));
    }
  }

  final String name;
  private final Process process;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final ArrayDeque<String> tail = new ArrayDeque<>();

  /** Every event taken by {@link #await}, in order. */
  final List<Event> seen = new ArrayList<>();

  private TrainerChild(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread reader = new Thread(this::read, "child-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  static TrainerChild launch(
      String name, String bootstrap, String registryUrl, Map<String, String> settings) {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                // Under surefire this is its manifest-only booter jar, whose Class-Path names the
                // whole test classpath.
                "-cp",
                System.getProperty("java.class.path"),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=" + MocoEngine.intraOpThreads(),
                "-Dai.djl.pytorch.num_interop_threads=1",
                TrainerProcessMain.class.getName(),
                bootstrap,
                registryUrl));
    settings.forEach((k, v) -> command.add(k + "=" + v));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      log.info("[{}] started, pid {}", name, p.pid());
      return new TrainerChild(name, p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a trainer JVM: " + command, e);
    }
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        long now = System.nanoTime();
        synchronized (tail) {
          tail.addLast(line);
          if (tail.size() > TAIL_LINES) {
            tail.removeFirst();
          }
        }
        log.info("[{}] {}", name, line);
        if (line.startsWith(TrainerProcessMain.MARK)) {
          String[] parts = line.substring(TrainerProcessMain.MARK.length()).split(" ", -1);
          events.add(new Event(now, parts[0], List.of(parts).subList(1, parts.length)));
        }
      }
    } catch (IOException e) {
      log.info("[{}] output closed: {}", name, e.toString());
    }
    events.add(new Event(System.nanoTime(), "EOF", List.of()));
  }

  /**
   * Takes events until one matches; fails on a {@code FAILED} line, on the end of output, or after
   * {@code timeout}.
   */
  Event await(Predicate<Event> match, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Event e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (e == null) {
        fail("[" + name + "] no " + what + " within " + timeout + "; last output:\n" + tail());
      }
      if (!e.kind().equals("EOF")) {
        seen.add(e);
      }
      if (match.test(e)) {
        return e;
      }
      if (e.kind().equals("FAILED") || e.kind().equals("EOF")) {
        fail("[" + name + "] ended (" + e + ") before " + what + "; last output:\n" + tail());
      }
    }
  }

  /** SIGKILL (no shutdown hook, no flush, no close), then collects what it printed before dying. */
  int kill() throws InterruptedException {
    if (!process.isAlive()) {
      fail(
          "["
              + name
              + "] had already ended (exit "
              + process.exitValue()
              + ") when it was to be killed; output:\n"
              + tail());
    }
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      fail("[" + name + "] still alive 30 s after SIGKILL");
    }
    drain();
    return process.exitValue();
  }

  /** Waits for the JVM to exit and returns its status. */
  int waitForExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      fail("[" + name + "] did not exit within " + timeout + "; last output:\n" + tail());
    }
    drain();
    return process.exitValue();
  }

  private void drain() throws InterruptedException {
    while (true) {
      Event e = events.poll(30, TimeUnit.SECONDS);
      if (e == null) {
        fail("[" + name + "] output did not end after the process did");
      }
      if (e.kind().equals("EOF")) {
        return;
      }
      seen.add(e);
    }
  }

  String tail() {
    synchronized (tail) {
      return String.join("\n", tail);
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
