package io.mocostream.encoder.format;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * SHA-256 in lower-case hex, over one array or streamed over a payload's chunks without joining
 * them first.
 */
public final class Sha256 {
  private static final HexFormat HEX = HexFormat.of();
  private static final Pattern HEX_64 = Pattern.compile("[0-9a-f]{64}");

  private Sha256() {}

  /**
   * A fresh digest; SHA-256 is mandatory in every Java platform, so a failure here is a broken JDK.
   */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }

  /** Hex SHA-256 of {@code data}. */
  public static String hex(byte[] data) {
    return HEX.formatHex(newDigest().digest(data));
  }

  /**
   * Hex SHA-256 of the concatenation of {@code parts} in order, read from each buffer's position to
   * its limit. The buffers' positions are left unchanged (each is read through a duplicate).
   */
  public static String hex(Iterable<ByteBuffer> parts) {
    MessageDigest digest = newDigest();
    for (ByteBuffer part : parts) {
      digest.update(part.duplicate());
    }
    return HEX.formatHex(digest.digest());
  }

  /** Lower-case hex of any bytes (digests, key ids). */
  public static String toHex(byte[] bytes) {
    return HEX.formatHex(bytes);
  }

  /** Whether {@code s} looks like a SHA-256 as this class writes it: 64 lower-case hex digits. */
  public static boolean isHex(CharSequence s) {
    return s != null && HEX_64.matcher(s).matches();
  }
}
