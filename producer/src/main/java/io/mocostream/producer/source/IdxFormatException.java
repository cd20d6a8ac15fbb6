package io.mocostream.producer.source;

import java.io.IOException;

/** An IDX file that cannot be used as a whole: bad magic, dimensions, counts, or truncated data. */
public final class IdxFormatException extends IOException {
  public IdxFormatException(String message) {
    super(message);
  }
}
