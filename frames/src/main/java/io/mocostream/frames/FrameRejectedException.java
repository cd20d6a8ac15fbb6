package io.mocostream.frames;

import java.util.Objects;

/**
 * A frame that cannot become a training or embedding image. {@link #reason()} is machine-readable
 * (it goes into the dead-letter header); the message names the input and what was wrong with it.
 */
public final class FrameRejectedException extends RuntimeException {
  private final Reason reason;
  private final String input;
  private final String detail;

  public FrameRejectedException(Reason reason, String input, String detail) {
    this(reason, input, detail, null);
  }

  public FrameRejectedException(Reason reason, String input, String detail, Throwable cause) {
    super(reason + ": " + input + ": " + detail, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
    this.input = input;
    this.detail = detail;
  }

  /** Machine-readable cause. */
  public Reason reason() {
    return reason;
  }

  /**
   * The rejected input as the caller named it (source id and sequence, topic-partition@offset, or
   * file).
   */
  public String input() {
    return input;
  }

  /** What was wrong, without the input's name. */
  public String detail() {
    return detail;
  }
}
