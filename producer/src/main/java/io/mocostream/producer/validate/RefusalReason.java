package io.mocostream.producer.validate;

/**
 * Why a candidate frame was refused before publishing. {@link #code()} is the stable, machine-readable name
 * used in logs, summaries and HTTP error bodies; {@link #httpStatus()} is what the upload endpoint answers.
 */
public enum RefusalReason {
  /** Zero bytes. */
  EMPTY("empty", 400),
  /** More bytes than {@link ProducerLimits#maxBytes()}. */
  TOO_LARGE("too_large", 413),
  /** The header declares more pixels than {@link ProducerLimits#maxPixels()} (checked before decoding). */
  TOO_MANY_PIXELS("too_many_pixels", 413),
  /** The magic bytes are not JPEG, PNG, GIF or BMP (and the frame is not raw pixels). */
  UNSUPPORTED_TYPE("unsupported_type", 415),
  /** The declared content type (an upload's Content-Type) disagrees with the magic bytes. */
  TYPE_MISMATCH("type_mismatch", 415),
  /** The header or the pixel data cannot be decoded (corrupt, truncated, inconsistent raw size). */
  UNDECODABLE("undecodable", 400),
  /** The file could not be read (permissions, vanished, I/O error). */
  UNREADABLE("unreadable", 400),
  /** A request parameter (label, source id) is malformed. */
  BAD_REQUEST("bad_request", 400);

  private final String code;
  private final int httpStatus;

  RefusalReason(String code, int httpStatus) {
    this.code = code;
    this.httpStatus = httpStatus;
  }

  public String code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }
}
