package io.mocostream.producer.validate;

import io.mocostream.schemas.ContentType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decides whether a candidate frame may be published. Order matters, cheapest and safest first:
 * <ol>
 *   <li>empty, then over {@link ProducerLimits#maxBytes()} (callers that know a size before reading use
 *       {@link #checkSize} and never read an oversized file or body at all);
 *   <li>content type from the magic bytes (never from a file extension), and agreement with a declared type;
 *   <li>width × height from the image header via {@link ImageReader#getWidth}/{@link ImageReader#getHeight},
 *       which parse only the header: a 100000×100000 PNG is refused without allocating its raster;
 *   <li>only then a full decode, so corrupt and truncated images are refused. ImageIO decodes a truncated JPEG
 *       with only a warning ("Premature end of JPEG file"); a read-warning listener turns that into a refusal.
 * </ol>
 * Raw frames (RAW_GREY, RAW_RGB) carry their size; their byte count must match it exactly. Of an animated GIF
 * the first frame is measured and decoded. A JPEG without its end-of-image marker is refused even when all its
 * scan data is there: it was cut off somewhere, and nothing says where.
 *
 * <p>Stateless and thread-safe: each call uses its own {@link ImageReader}.
 */
public final class FrameValidator {
  /**
   * Above this many pixels the validating decode subsamples, so checking a 40-megapixel image reads every byte
   * of it (truncation and corruption are still found) but allocates a raster of at most ~4 megapixels.
   */
  static final long DECODE_PIXEL_BUDGET = 4_000_000L;

  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  private final ProducerLimits limits;

  public FrameValidator(ProducerLimits limits) {
    this.limits = limits;
  }

  public ProducerLimits limits() {
    return limits;
  }

  /** Refuses a frame whose size is known before reading it (file size, Content-Length). */
  public Optional<Refusal> checkSize(String origin, long bytes) {
    if (bytes == 0) {
      return Optional.of(new Refusal(origin, RefusalReason.EMPTY, "0 bytes"));
    }
    if (bytes > limits.maxBytes()) {
      return Optional.of(new Refusal(origin, RefusalReason.TOO_LARGE,
          bytes + " bytes is over the limit of " + limits.maxBytes() + " bytes"));
    }
    return Optional.empty();
  }

  /**
   * Validates one frame.
   *
   * @param declared the content type the sender claims (upload Content-Type), RAW_GREY/RAW_RGB for raw pixels,
   *                 or null to go by the magic bytes alone
   * @param width    required for raw frames, ignored otherwise (the header decides)
   * @param height   required for raw frames, ignored otherwise
   */
  public Verdict validate(String origin, byte[] data, ContentType declared, Integer width, Integer height) {
    Optional<Refusal> size = checkSize(origin, data == null ? 0 : data.length);
    if (size.isPresent()) {
      return size.get();
    }
    if (declared == ContentType.RAW_GREY || declared == ContentType.RAW_RGB) {
      return validateRaw(origin, data, declared, width, height);
    }
    ContentType sniffed = sniff(data);
    if (sniffed == null) {
      return new Refusal(origin, RefusalReason.UNSUPPORTED_TYPE,
          "not a JPEG, PNG, GIF or BMP image (starts with " + hexPrefix(data) + ")");
    }
    if (declared != null && declared != sniffed) {
      return new Refusal(origin, RefusalReason.TYPE_MISMATCH,
          "declared " + declared + " but the bytes are " + sniffed);
    }
    return validateEncoded(origin, data, sniffed);
  }

  private Verdict validateRaw(String origin, byte[] data, ContentType type, Integer width, Integer height) {
    if (width == null || height == null || width <= 0 || height <= 0) {
      return new Refusal(origin, RefusalReason.UNDECODABLE,
          type + " needs a positive width and height, got " + width + "×" + height);
    }
    long pixels = (long) width * height;
    if (pixels > limits.maxPixels()) {
      return new Refusal(origin, RefusalReason.TOO_MANY_PIXELS,
          width + "×" + height + " = " + pixels + " pixels is over the limit of " + limits.maxPixels());
    }
    long expected = pixels * (type == ContentType.RAW_RGB ? 3 : 1);
    if (data.length != expected) {
      return new Refusal(origin, RefusalReason.UNDECODABLE,
          type + " " + width + "×" + height + " needs " + expected + " bytes, got " + data.length);
    }
    return new Verdict.Accepted(type, width, height);
  }

  private Verdict validateEncoded(String origin, byte[] data, ContentType type) {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(formatName(type));
    if (!readers.hasNext()) {
      return new Refusal(origin, RefusalReason.UNSUPPORTED_TYPE, "no ImageIO reader for " + type);
    }
    ImageReader reader = readers.next();
    // Memory-cached stream: ImageIO's default may spill to a temp file; the bytes are in memory already.
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
      reader.setInput(in, true, true);
      int w;
      int h;
      try {
        w = reader.getWidth(0);
        h = reader.getHeight(0);
      } catch (IOException | RuntimeException e) {
        return new Refusal(origin, RefusalReason.UNDECODABLE, type + " header unreadable: " + describe(e));
      }
      if (w <= 0 || h <= 0) {
        return new Refusal(origin, RefusalReason.UNDECODABLE, type + " header declares " + w + "×" + h);
      }
      long pixels = (long) w * h;
      if (pixels > limits.maxPixels()) {
        return new Refusal(origin, RefusalReason.TOO_MANY_PIXELS,
            type + " header declares " + w + "×" + h + " = " + pixels + " pixels, over the limit of "
                + limits.maxPixels());
      }
      List<String> warnings = new ArrayList<>();
      reader.addIIOReadWarningListener((IIOReadWarningListener) (src, warning) -> warnings.add(warning));
      ImageReadParam param = reader.getDefaultReadParam();
      if (pixels > DECODE_PIXEL_BUDGET) {
        int step = (int) Math.ceil(Math.sqrt((double) pixels / DECODE_PIXEL_BUDGET));
        param.setSourceSubsampling(step, step, 0, 0);
      }
      try {
        reader.read(0, param);
      } catch (IOException | RuntimeException e) {
        return new Refusal(origin, RefusalReason.UNDECODABLE, type + " " + w + "×" + h + " does not decode: " + describe(e));
      }
      if (!warnings.isEmpty()) {
        return new Refusal(origin, RefusalReason.UNDECODABLE,
            type + " " + w + "×" + h + " is truncated or corrupt: " + String.join("; ", warnings));
      }
      return new Verdict.Accepted(type, w, h);
    } catch (IOException e) {
      // Closing an in-memory stream: not expected, but never let it pass as accepted.
      return new Refusal(origin, RefusalReason.UNDECODABLE, describe(e));
    } finally {
      reader.dispose();
    }
  }

  /** The image type from the magic bytes, or null when it is none of JPEG, PNG, GIF, BMP. */
  public static ContentType sniff(byte[] d) {
    if (d == null) {
      return null;
    }
    if (d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) {
      return ContentType.JPEG;
    }
    if (startsWith(d, PNG_MAGIC)) {
      return ContentType.PNG;
    }
    if (d.length >= 6 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8'
        && (d[4] == '7' || d[4] == '9') && d[5] == 'a') {
      return ContentType.GIF;
    }
    // "BM" alone is a weak magic; the BMP header read that follows decides.
    if (d.length >= 26 && d[0] == 'B' && d[1] == 'M') {
      return ContentType.BMP;
    }
    return null;
  }

  /** The MIME type of an encoded content type (null for raw pixels). */
  public static String mimeType(ContentType type) {
    return switch (type) {
      case JPEG -> "image/jpeg";
      case PNG -> "image/png";
      case GIF -> "image/gif";
      case BMP -> "image/bmp";
      case RAW_GREY, RAW_RGB -> null;
    };
  }

  /** The content type of a MIME type (image/jpeg, image/png, image/gif, image/bmp), or null. */
  public static ContentType fromMimeType(String mime) {
    if (mime == null) {
      return null;
    }
    String m = mime.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
    return switch (m) {
      case "image/jpeg", "image/jpg", "image/pjpeg" -> ContentType.JPEG;
      case "image/png" -> ContentType.PNG;
      case "image/gif" -> ContentType.GIF;
      case "image/bmp", "image/x-bmp", "image/x-ms-bmp" -> ContentType.BMP;
      default -> null;
    };
  }

  private static String formatName(ContentType type) {
    return switch (type) {
      case JPEG -> "jpeg";
      case PNG -> "png";
      case GIF -> "gif";
      case BMP -> "bmp";
      case RAW_GREY, RAW_RGB -> throw new IllegalArgumentException("raw frames have no ImageIO format: " + type);
    };
  }

  private static boolean startsWith(byte[] d, byte[] prefix) {
    if (d.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (d[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static String hexPrefix(byte[] d) {
    int n = Math.min(8, d.length);
    return "0x" + HexFormat.of().formatHex(d, 0, n) + (d.length > n ? "…" : "");
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null) {
        sb.append(": ").append(c.getMessage());
      }
    }
    return sb.toString();
  }
}
