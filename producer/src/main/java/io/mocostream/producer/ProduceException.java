package io.mocostream.producer;

/**
 * The produce command cannot start or cannot go on: a bad option or input, a broker or registry
 * that is down. The message says what and where; a CLI prints it and exits non-zero.
 */
public final class ProduceException extends RuntimeException {
  private final transient ProduceSummary partialSummary;

  public ProduceException(String message, Throwable cause, ProduceSummary partialSummary) {
    super(message, cause);
    this.partialSummary = partialSummary;
  }

  public ProduceException(String message, Throwable cause) {
    this(message, cause, null);
  }

  /**
   * What had been published and refused before the failure, or null when it failed before starting.
   */
  public ProduceSummary partialSummary() {
    return partialSummary;
  }
}
