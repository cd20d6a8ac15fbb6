package io.mocostream.ingest;

import io.mocostream.frames.DecodedImage;

/**
 * Resizing by area averaging (a box filter with exact fractional coverage), the filter of {@link
 * java.awt.image.AreaAveragingScaleFilter}: every output pixel is the mean of the source area it
 * covers, so a large reduction does not alias the way bilinear or nearest-neighbour sampling does.
 *
 * <p>Hand-written rather than through {@code AreaAveragingScaleFilter} because that filter only
 * runs inside the AWT producer/consumer pipeline on packed ARGB ints (a grey frame would become
 * four bytes a pixel and back) and in float; this one reads the decoder's interleaved bytes, keeps
 * grey as one channel, and computes in integers, so the same frame gives the same bytes on every
 * machine. A test compares it with the JDK's filter.
 */
public final class AreaResize {
  private AreaResize() {}

  /**
   * Longest output side, in multiples of the shorter side asked for: a panorama or a hostile
   * 1×4,000,000 strip comes out thinner instead of as megabytes.
   */
  public static final int MAX_ASPECT = 4;

  /**
   * The size whose shorter side is {@code shorterSide} and whose aspect ratio is the image's (sides
   * rounded, at least 1), further reduced when the longer side would exceed {@value
   * #MAX_ASPECT}·{@code shorterSide}; the image's own size when it already fits: never an upscale.
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
    return new int[] {
      (int) Math.max(1, Math.round(width * scale)), (int) Math.max(1, Math.round(height * scale))
    };
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
   * The image resized to {@code w × h} by area averaging (up or down; upscaling replicates with
   * weights).
   *
   * <p>In units where a source pixel is {@code w} wide and an output pixel {@code W} wide, source
   * column {@code i} spans {@code [i·w, (i+1)·w)} and output column {@code x} spans {@code [x·W,
   * (x+1)·W)}: their overlap is an integer weight, and the weights of one output pixel sum to
   * {@code W} (rows likewise, to {@code H}). The overlaps of each axis are listed once ({@link
   * Overlaps}), so the per-pixel work is one multiply-add per overlap: a 28×28 frame's 9×8 hash
   * input costs about 1,400 of them.
   */
  public static DecodedImage resize(DecodedImage image, int w, int h) {
    if (w < 1 || h < 1) {
      throw new IllegalArgumentException("target size must be positive, got " + w + "x" + h);
    }
    int sw = image.width();
    int sh = image.height();
    int c = image.channels();
    byte[] src = image.pixels();
    Overlaps cols = Overlaps.of(sw, w);
    Overlaps rows = Overlaps.of(sh, h);
    int rowLength = w * c;
    // acc: h×w×c sums of (row sum × row weight); a row sum is at most 255·sw, the total 255·sw·sh:
    // a long.
    long[] acc = new long[h * rowLength];
    int[] rowSum = new int[rowLength];
    int t = 0; // the next row overlap; rows.src is ascending
    for (int j = 0; j < sh; j++) {
      horizontal(src, j * sw * c, c, cols, rowSum);
      for (; t < rows.count && rows.src[t] == j; t++) {
        long weight = rows.weight[t];
        int o = rows.out[t] * rowLength;
        for (int k = 0; k < rowLength; k++) {
          acc[o + k] += rowSum[k] * weight;
        }
      }
    }
    long total = (long) sw * sh;
    long half = total / 2;
    double inverse = 1.0 / total;
    byte[] out = new byte[h * rowLength];
    for (int k = 0; k < out.length; k++) {
      // The rounded mean (acc + total/2) / total, by a multiplication (a long division per pixel
      // cost as much as
      // the rest of a small resize): the estimate is off by at most one, and corrected to the exact
      // quotient.
      long n = acc[k] + half;
      long q = (long) (n * inverse);
      if (q * total > n) {
        q--;
      } else if ((q + 1) * total <= n) {
        q++;
      }
      out[k] = (byte) q;
    }
    return new DecodedImage(w, h, c, out);
  }

  /**
   * One source row resized to the output's columns, as sums weighted by overlap (each column's
   * weights sum to sw).
   */
  private static void horizontal(byte[] src, int rowStart, int c, Overlaps cols, int[] out) {
    java.util.Arrays.fill(out, 0);
    if (c == 1) {
      for (int t = 0; t < cols.count; t++) {
        out[cols.out[t]] += (src[rowStart + cols.src[t]] & 0xFF) * cols.weight[t];
      }
      return;
    }
    for (int t = 0; t < cols.count; t++) {
      int s = rowStart + cols.src[t] * c;
      int o = cols.out[t] * c;
      int weight = cols.weight[t];
      for (int k = 0; k < c; k++) {
        out[o + k] += (src[s + k] & 0xFF) * weight;
      }
    }
  }

  /**
   * Where the cells of one axis overlap: {@code n} source cells (each {@code d} units) against
   * {@code d} output cells (each {@code n} units); entry {@code t} says source cell {@code src[t]}
   * covers {@code weight[t]} units of output cell {@code out[t]}. Sorted by source cell, then
   * output cell; at most {@code n + d - 1} entries.
   */
  static final class Overlaps {
    final int[] src;
    final int[] out;
    final int[] weight;
    final int count;

    private Overlaps(int[] src, int[] out, int[] weight, int count) {
      this.src = src;
      this.out = out;
      this.weight = weight;
      this.count = count;
    }

    /**
     * Recently used axes (a frame size repeats from frame to frame): immutable, so shared across
     * threads.
     */
    private static final java.util.concurrent.ConcurrentHashMap<Long, Overlaps> RECENT =
        new java.util.concurrent.ConcurrentHashMap<>();

    private static final int RECENT_MAX = 256;

    static Overlaps of(int n, int d) {
      Long key = (long) n << 32 | d;
      Overlaps cached = RECENT.get(key);
      if (cached != null) {
        return cached;
      }
      Overlaps made = compute(n, d);
      if (RECENT.size() >= RECENT_MAX) {
        RECENT.clear(); // sizes from hostile or varied input cannot grow it without bound
      }
      RECENT.put(key, made);
      return made;
    }

    private static Overlaps compute(int n, int d) {
      int cap = n + d - 1;
      int[] src = new int[cap];
      int[] out = new int[cap];
      int[] weight = new int[cap];
      int count = 0;
      int i = 0;
      int x = 0;
      while (i < n
          && x
              < d) { // two pointers: source cell i = [i·d, (i+1)·d), output cell x = [x·n, (x+1)·n)
        long srcHi = (long) (i + 1) * d;
        long outHi = (long) (x + 1) * n;
        src[count] = i;
        out[count] = x;
        weight[count] = (int) (Math.min(srcHi, outHi) - Math.max((long) i * d, (long) x * n));
        count++;
        if (srcHi <= outHi) {
          i++;
        }
        if (outHi <= srcHi) {
          x++;
        }
      }
      return new Overlaps(src, out, weight, count);
    }
  }
}
