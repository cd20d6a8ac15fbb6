package io.mocostream.frames;

/**
 * Upper bounds a frame must respect before anything its size is allocated: {@code maxBytes} against
 * the encoded payload (or a file or upload body before it is read), {@code maxPixels} against the
 * width × height an image header declares (or a raw frame carries). One set of defaults for every
 * stage: what the producer publishes, ingest, the trainer and the services accept.
 *
 * @param maxBytes largest accepted payload, in bytes
 * @param maxPixels largest accepted width × height
 */
public record FrameLimits(long maxBytes, long maxPixels) {
  /** 16 MiB: a large camera JPEG is a few MiB; the frames topics are created to hold it. */
  public static final long DEFAULT_MAX_BYTES = 16L << 20;

  /**
   * 40 megapixels: above any common camera. Stages decode within a pixel budget, never at this
   * size.
   */
  public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

  /**
   * Largest decode any stage allocates for one image unless it asks for less: 4 Mpx, 12 MB as RGB
   * bytes.
   */
  public static final long DEFAULT_DECODE_PIXELS = 4_000_000L;

  public static final FrameLimits DEFAULT = new FrameLimits(DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS);

  public FrameLimits {
    if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "maxBytes must be in 1.." + (Integer.MAX_VALUE - 8) + ", got " + maxBytes);
    }
    // A raw RGB frame of maxPixels must fit one byte[].
    if (maxPixels <= 0 || maxPixels > (Integer.MAX_VALUE - 8) / 3) {
      throw new IllegalArgumentException(
          "maxPixels must be in 1.." + (Integer.MAX_VALUE - 8) / 3 + ", got " + maxPixels);
    }
  }
}
