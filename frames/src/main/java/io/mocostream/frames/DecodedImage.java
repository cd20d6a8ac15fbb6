package io.mocostream.frames;

import java.util.Arrays;
import java.util.Objects;

/**
 * An 8-bit image after decoding: {@code height} rows of {@code width} pixels, each pixel {@code
 * channels} bytes (1 = grey, 3 = RGB), interleaved row-major (HWC), as the augmenter reads it.
 *
 * <p>The pixel array is not copied (images are large and passed along a pipeline): callers must not
 * modify it after construction. {@link #equals} compares pixel content, unlike a plain record over
 * an array.
 *
 * @param width pixels per row, &gt; 0
 * @param height rows, &gt; 0
 * @param channels 1 (grey) or 3 (RGB)
 * @param pixels {@code height × width × channels} bytes, unsigned
 */
public record DecodedImage(int width, int height, int channels, byte[] pixels) {

  public DecodedImage {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException(
          "image size must be positive, got " + width + "x" + height);
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 (grey) or 3 (RGB), got " + channels);
    }
    Objects.requireNonNull(pixels, "pixels");
    long expected = (long) width * height * channels;
    if (pixels.length != expected) {
      throw new IllegalArgumentException(
          "a "
              + width
              + "x"
              + height
              + "x"
              + channels
              + " image needs "
              + expected
              + " bytes, got "
              + pixels.length);
    }
  }

  /** Number of pixels (width × height). */
  public long pixelCount() {
    return (long) width * height;
  }

  /** Sample of channel {@code c} at column {@code x}, row {@code y}, as 0..255. */
  public int sample(int x, int y, int c) {
    return pixels[(y * width + x) * channels + c] & 0xFF;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DecodedImage d
        && d.width == width
        && d.height == height
        && d.channels == channels
        && Arrays.equals(d.pixels, pixels);
  }

  @Override
  public int hashCode() {
    return 31 * Objects.hash(width, height, channels) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "DecodedImage[" + width + "x" + height + "x" + channels + "]";
  }
}
