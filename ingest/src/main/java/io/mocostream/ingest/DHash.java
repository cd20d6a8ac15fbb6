package io.mocostream.ingest;

import io.mocostream.frames.DecodedImage;

/**
 * A 64-bit difference hash (dHash, N. Krawetz): the image in grey, area-averaged to 9×8, one bit
 * per horizontally adjacent pair (left brighter than right). Small changes (noise, compression, a
 * slight shift of exposure) flip few bits; a different scene flips about half. Near-duplicates are
 * hashes within a small Hamming distance.
 */
public final class DHash {
  private DHash() {}

  /**
   * The image's 64-bit dHash; bit {@code 8·row + col} is set when pixel (col, row) is brighter than
   * (col+1, row).
   */
  public static long of(DecodedImage image) {
    DecodedImage small = AreaResize.resize(grey(image), 9, 8);
    byte[] p = small.pixels();
    long hash = 0;
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        if ((p[y * 9 + x] & 0xFF) > (p[y * 9 + x + 1] & 0xFF)) {
          hash |= 1L << (y * 8 + x);
        }
      }
    }
    return hash;
  }

  /** Bits in which two hashes differ. */
  public static int distance(long a, long b) {
    return Long.bitCount(a ^ b);
  }

  /** Luma (ITU-R BT.601 weights, in integers) of an RGB image; a grey image as it is. */
  static DecodedImage grey(DecodedImage image) {
    if (image.channels() == 1) {
      return image;
    }
    byte[] rgb = image.pixels();
    byte[] g = new byte[image.width() * image.height()];
    for (int i = 0, o = 0; i < g.length; i++, o += 3) {
      g[i] =
          (byte)
              ((299 * (rgb[o] & 0xFF) + 587 * (rgb[o + 1] & 0xFF) + 114 * (rgb[o + 2] & 0xFF) + 500)
                  / 1000);
    }
    return new DecodedImage(image.width(), image.height(), 1, g);
  }
}
