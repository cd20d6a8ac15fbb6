package io.mocostream.frames;

import java.util.Locale;

/**
 * Why a frame was refused, in every stage. The enum name is what the {@code mocostream.dlq.reason}
 * header carries; {@link #code()} is the lower-case label for metrics and HTTP bodies; {@link
 * #httpStatus()} what an upload is answered. Names are stable: they are written to topics.
 */
public enum Reason {
  /** No payload bytes (also a null value, a tombstone). */
  EMPTY(400),
  /** More bytes than {@link FrameLimits#maxBytes()}. */
  TOO_MANY_BYTES(413),
  /** The header (or raw frame) declares more pixels than {@link FrameLimits#maxPixels()}. */
  TOO_MANY_PIXELS(413),
  /**
   * Not JPEG, PNG, GIF, BMP or raw pixels, or a variant no stage decodes (CMYK, BMP with embedded
   * JPEG/PNG).
   */
  UNSUPPORTED_TYPE(415),
  /** The declared content type disagrees with the magic bytes. */
  TYPE_MISMATCH(415),
  /**
   * Raw size ≠ width × height × channels, dimensions missing, negative or overflowing, or frame ≠
   * header size.
   */
  SIZE_MISMATCH(400),
  /** The header or the pixel data cannot be decoded: corrupt, truncated, inconsistent. */
  UNDECODABLE(400),
  /** A file or body could not be read (permissions, vanished, I/O error). */
  UNREADABLE(400),
  /** A request parameter (label, source id) is malformed. */
  BAD_REQUEST(400),
  /**
   * The record value is not an Avro record in the registry's wire format, or its body does not
   * parse.
   */
  DESERIALIZE(400),
  /** A readable record of another type. */
  NOT_AN_IMAGE_FRAME(400),
  /**
   * Anything else that went wrong with this one record (the message says what); the stage went on.
   */
  INTERNAL(500);

  private final int httpStatus;

  Reason(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  /** Lower-case label ({@code too_many_pixels}) for metrics and HTTP error bodies. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The HTTP status an upload refused for this reason is answered with. */
  public int httpStatus() {
    return httpStatus;
  }

  /**
   * The reason named by a dead-letter header, or {@link #INTERNAL} for a name this version does not
   * know.
   */
  public static Reason fromHeader(String name) {
    try {
      return valueOf(name);
    } catch (IllegalArgumentException | NullPointerException e) {
      return INTERNAL;
    }
  }
}
