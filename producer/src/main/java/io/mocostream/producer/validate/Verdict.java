package io.mocostream.producer.validate;

import io.mocostream.schemas.ContentType;

/**
 * The validator's answer: {@link Accepted} with what the bytes turned out to be, or a {@link
 * Refusal}.
 */
public sealed interface Verdict permits Verdict.Accepted, Refusal {

  /**
   * The frame is publishable: its content type from the magic bytes and its pixel size from the
   * header.
   */
  record Accepted(ContentType contentType, int width, int height) implements Verdict {}
}
