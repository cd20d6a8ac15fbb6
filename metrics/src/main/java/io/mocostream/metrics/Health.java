package io.mocostream.metrics;

/**
 * What {@code /health/ready} answers: ready (200) or not (503), with a line saying why. Asked on
 * every probe, from the HTTP worker thread: implementations read state that the working thread
 * publishes (volatile, atomic).
 */
@FunctionalInterface
public interface Health {

  /** The answer now. */
  Status ready();

  /**
   * @param detail what the process is doing, or what it waits for
   */
  record Status(boolean ready, String detail) {
    public static Status ready(String detail) {
      return new Status(true, detail);
    }

    public static Status notReady(String detail) {
      return new Status(false, detail);
    }
  }
}
