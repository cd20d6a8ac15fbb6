package io.mocostream.frames;

import io.mocostream.schemas.ContentType;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * Format sniffing and the names each stage uses for a content type: magic bytes, MIME types,
 * ImageIO formats.
 */
public final class ImageFormats {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  private ImageFormats() {}

  /**
   * The compressed format {@code data} starts like, from its magic bytes; empty for anything else.
   * "BM" alone is a weak magic; the BMP header checks that follow decide.
   */
  public static Optional<ContentType> sniff(byte[] d) {
    if (d == null) {
      return Optional.empty();
    }
    if (d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) {
      return Optional.of(ContentType.JPEG);
    }
    if (startsWith(d, PNG_MAGIC)) {
      return Optional.of(ContentType.PNG);
    }
    if (d.length >= 6
        && d[0] == 'G'
        && d[1] == 'I'
        && d[2] == 'F'
        && d[3] == '8'
        && (d[4] == '7' || d[4] == '9')
        && d[5] == 'a') {
      return Optional.of(ContentType.GIF);
    }
    if (d.length >= 26 && d[0] == 'B' && d[1] == 'M') {
      return Optional.of(ContentType.BMP);
    }
    return Optional.empty();
  }

  /**
   * Whether the type is a compressed image format (not raw pixels, not a symbol this version does
   * not know).
   */
  public static boolean isEncoded(ContentType type) {
    return type == ContentType.JPEG
        || type == ContentType.PNG
        || type == ContentType.GIF
        || type == ContentType.BMP;
  }

  /** The ImageIO format name of an encoded content type. */
  public static String formatName(ContentType type) {
    return switch (type) {
      case JPEG -> "jpeg";
      case PNG -> "png";
      case GIF -> "gif";
      case BMP -> "bmp";
      default -> throw new IllegalArgumentException("no ImageIO format for " + type);
    };
  }

  /** The MIME type of an encoded content type (null for raw pixels). */
  public static String mimeType(ContentType type) {
    return switch (type) {
      case JPEG -> "image/jpeg";
      case PNG -> "image/png";
      case GIF -> "image/gif";
      case BMP -> "image/bmp";
      default -> null;
    };
  }

  /**
   * The content type of a MIME type (image/jpeg, image/png, image/gif, image/bmp and their
   * aliases), or null.
   */
  public static ContentType fromMimeType(String mime) {
    if (mime == null) {
      return null;
    }
    String m = mime.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return switch (m) {
      case "image/jpeg", "image/jpg", "image/pjpeg" -> ContentType.JPEG;
      case "image/png" -> ContentType.PNG;
      case "image/gif" -> ContentType.GIF;
      case "image/bmp", "image/x-bmp", "image/x-ms-bmp" -> ContentType.BMP;
      default -> null;
    };
  }

  /**
   * The first {@code n} bytes as {@code 0x…} hex, for messages about bytes that are not what they
   * claim.
   */
  public static String hexPrefix(byte[] d, int n) {
    int k = Math.min(n, d.length);
    return "0x" + HexFormat.of().formatHex(d, 0, k) + (d.length > k ? "…" : "");
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
}
