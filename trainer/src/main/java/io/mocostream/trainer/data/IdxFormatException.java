package io.mocostream.trainer.data;

import java.io.IOException;

/**
 * An IDX file whose header or length is not what the format requires; the message names the file.
 */
public final class IdxFormatException extends IOException {
  public IdxFormatException(String message) {
    super(message);
  }
}
