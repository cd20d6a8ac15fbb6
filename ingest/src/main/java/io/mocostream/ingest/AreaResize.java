package io.mocostream.ingest;

import io.mocostream.frames.DecodedImage;

/**
 * Resizing by area averaging (a box filter with exact fractional coverage), the filter of
 * {@link java.awt.image.AreaAveragingScaleFilter}: every output pixel is the mean of the source area it covers, so a
 * large reduction does not alias the way bilinear or nearest-neighbour sampling does.
 *
 * <p>Hand-written rather than through {@code AreaAveragingScaleFilter} because that filter only runs inside the
 * AWT producer/consumer pipeline on packed ARGB ints (a grey frame would become four bytes a pixel and back) and in
 * float; this one reads the decoder's interleaved bytes, keeps grey as one channel, and computes in integers, so the
 * same frame gives the same bytes on every machine. A test compares it with the JDK's filter.
 */
public final class AreaResize {
  private AreaResize() {}

  /** Longest output side, in multiples of the shorter side asked for: a panorama or a hostile 1×4,000,000 strip
   * comes out thinner instead of as megabytes. */
  public static final int MAX_ASPECT = 4;

  /**
   * The size whose shorter side is {@code shorterSide} and whose aspect ratio is the image's (sides rounded, at
   * least 1), further reduced when the longer side would exceed {@value #MAX_ASPECT}·{@code shorterSide}; the
   * image's own size when it already fits: never an upscale.
   */
  public static int[] targetSize(int width, int height, int shorterSide) {
    if (shorterSide < 1) {
      throw new IllegalArgumentException("shorter side must be >= 1, got " + shorterSide);
    }
    int shorter = Math.min(width, height);
    int longer = Math.max(width, height);
    double scale = Math.min(1.0, (double) shorterSide / shorter);
    scale = Math.min(scale, (double) MAX_ASPECT * shorterSide / longer);
    if (scale >= 1.0) {
      return new int[] {width, height};
    }
    return new int[] {(int) Math.max(1, Math.round(width * scale)), (int) Math.max(1, Math.round(height * scale))};
  }

  /** The image brought down to {@link #targetSize}; the same image when it already fits. */
  public static DecodedImage shorterSide(DecodedImage image, int shorterSide) {
    int[] size = targetSize(image.width(), image.height(), shorterSide);
    if (size[0] == image.width() && size[1] == image.height()) {
      return image;
    }
    return resize(image, size[0], size[1]);
  }

  /**
   * The image resized to {@code w × h} by area averaging (up or down; upscaling replicates with weights).
   *
   * <p>In units where a source pixel is {@code w} wide and an output pixel {@code W} wide, source column {@code i}
   * spans {@code [i·w, (i+1)·w)} and output column {@code x} spans {@code [x·W, (x+1)·W)}: their overlap is an
   * integer weight, and the weights of one output pixel sum to {@code W} (rows likewise, to {@code H}).
   */
  public static DecodedImage resize(DecodedImage image, int w, int h) {
    if (w < 1 || h < 1) {
      throw new IllegalArgumentException("target size must be positive, got " + w + "x" + h);
    }
    int sw = image.width();
    int sh = image.height();
    int c = image.channels();
    byte[] src = image.pixels();
    // acc: h×w×c sums of (row sum × row weight); a row sum is at most 255·sw, the total 255·sw·sh: a long.
    long[] acc = new long[h * w * c];
    int[] rowSum = new int[w * c];
    for (int j = 0; j < sh; j++) {
      horizontal(src, j * sw * c, sw, w, c, rowSum);
      // Output rows overlapping source row j: [j·h, (j+1)·h) against [y·sh, (y+1)·sh).
      long lo = (long) j * h;
      long hi = lo + h;
      for (int y = (int) (lo / sh); y < h && (long) y * sh < hi; y++) {
        long weight = Math.min(hi, (long) (y + 1) * sh) - Math.max(lo, (long) y * sh);
        int o = y * w * c;
        for (int k = 0; k < w * c; k++) {
          acc[o + k] += rowSum[k] * weight;
        }
      }
    }
    long total = (long) sw * sh;
    byte[] out = new byte[h * w * c];
    for (int k = 0; k < out.length; k++) {
      out[k] = (byte) ((acc[k] + total / 2) / total); // rounded mean
    }
    return new DecodedImage(w, h, c, out);
  }

  /**
   * One source row resized to {@code w} columns, as sums weighted by overlap (each output column's weights sum to
   * sw). Two pointers walk the source and output columns together: no division per pixel.
   */
  private static void horizontal(byte[] src, int rowStart, int sw, int w, int c, int[] out) {
    int i = 0;
    for (int x = 0; x < w; x++) {
      long outLo = (long) x * sw;
      long outHi = outLo + sw;
      int o = x * c;
      for (int k = 0; k < c; k++) {
        out[o + k] = 0;
      }
      while (i < sw) {
        long srcLo = (long) i * w;
        long srcHi = srcLo + w;
        int weight = (int) (Math.min(srcHi, outHi) - Math.max(srcLo, outLo));
        int s = rowStart + i * c;
        for (int k = 0; k < c; k++) {
          out[o + k] += (src[s + k] & 0xFF) * weight;
        }
        if (srcHi > outHi) {
          break; // source column i continues into the next output column
        }
        i++;
        if (srcHi == outHi) {
          break;
        }
      }
    }
  }
}
