package io.mocostream.encoder.client;

/** Where a subscriber starts reading the model topic. */
public enum StartPosition {
  /** Every retained version, oldest first. */
  EARLIEST,
  /**
   * The newest committed version (found by scanning backwards from the end, without reading the
   * history), then every later one. With no version yet, the first one published.
   */
  NEWEST
}
