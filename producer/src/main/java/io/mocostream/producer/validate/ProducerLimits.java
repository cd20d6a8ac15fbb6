package io.mocostream.producer.validate;

/**
 * Size limits checked before anything large is allocated: bytes before a file or upload body is read,
 * pixels from the image header before the raster is decoded.
 *
 * @param maxBytes  largest accepted encoded frame in bytes (also the cap on an upload body)
 * @param maxPixels largest accepted width × height
 */
public record ProducerLimits(long maxBytes, long maxPixels) {
  /** 16 MiB: a large camera JPEG is a few MiB; well under the broker's message.max.bytes. */
  public static final long DEFAULT_MAX_BYTES = 16L * 1024 * 1024;
  /** 40 megapixels: above any common camera, and decoded as ARGB still only ~160 MB. */
  public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

  public static final ProducerLimits DEFAULTS = new ProducerLimits(DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS);

  public ProducerLimits {
    if (maxBytes <= 0 || maxBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("maxBytes must be in 1.." + (Integer.MAX_VALUE - 8) + ", got " + maxBytes);
    }
    if (maxPixels <= 0) {
      throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
    }
  }
}
