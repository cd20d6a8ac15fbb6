package io.mocostream.producer.validate;

import io.mocostream.frames.Reason;
import java.util.Objects;

/**
 * A candidate frame that was not published, with the input it came from (file path, {@code
 * file#index}, upload) and the reason. Refusals are logged and counted per reason, never dropped
 * silently.
 */
public record Refusal(String origin, Reason reason, String message) implements Verdict {
  public Refusal {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return origin + ": " + reason.code() + " (" + message + ")";
  }
}
