package io.mocostream.producer.validate;

import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.frames.Reason;
import io.mocostream.schemas.ContentType;
import java.util.Optional;

/**
 * Decides whether a candidate frame may be published, by the frame contract every stage shares
 * ({@link ImageDecoder#inspect}): the same limits, header checks, decode and reasons as ingest, the
 * trainer and the services, so a frame the producer publishes is one they accept. Callers that know
 * a size before reading (file size, Content-Length) use {@link #checkSize} and never read an
 * oversized file or body at all.
 *
 * <p>Stateless and thread-safe.
 */
public final class FrameValidator {
  private final ImageDecoder decoder;

  public FrameValidator(FrameLimits limits) {
    this.decoder = new ImageDecoder(limits);
  }

  public FrameLimits limits() {
    return decoder.limits();
  }

  /** Refuses a frame whose size is known before reading it (file size, Content-Length). */
  public Optional<Refusal> checkSize(String origin, long bytes) {
    if (bytes == 0) {
      return Optional.of(new Refusal(origin, Reason.EMPTY, "0 bytes"));
    }
    if (bytes > limits().maxBytes()) {
      return Optional.of(
          new Refusal(
              origin,
              Reason.TOO_MANY_BYTES,
              bytes + " bytes is over the limit of " + limits().maxBytes() + " bytes"));
    }
    return Optional.empty();
  }

  /**
   * Validates one frame.
   *
   * @param declared the content type the sender claims (upload Content-Type), RAW_GREY/RAW_RGB for
   *     raw pixels, or null to go by the magic bytes alone
   * @param width required for raw frames, ignored otherwise (the header decides)
   * @param height required for raw frames, ignored otherwise
   */
  public Verdict validate(
      String origin, byte[] data, ContentType declared, Integer width, Integer height) {
    boolean raw = declared == ContentType.RAW_GREY || declared == ContentType.RAW_RGB;
    try {
      ImageDecoder.ImageInfo info =
          decoder.inspect(declared, data, raw ? width : null, raw ? height : null, origin);
      return new Verdict.Accepted(info.contentType(), info.width(), info.height());
    } catch (FrameRejectedException e) {
      return new Refusal(origin, e.reason(), e.detail());
    }
  }
}
