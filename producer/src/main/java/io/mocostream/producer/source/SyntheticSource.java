package io.mocostream.producer.source;

import io.mocostream.schemas.ContentType;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Procedural images with known classes, for tests and demos; endless (use {@code --max}).
 *
 * <p>Class {@code c} of {@code C} is a pattern of stripes at angle {@code π·c/C} with a period of
 * {@code 4 + 2·(c mod 3)} pixels and a tint of hue {@code c/C}. Each image draws its class, stripe
 * phase, contrast, brightness and per-pixel Gaussian noise from a generator seeded by {@code (seed,
 * index)} alone: image {@code i} is the same bytes in every run and does not depend on the images
 * before it.
 */
public final class SyntheticSource implements FrameSource {
  public static final int DEFAULT_CLASSES = 10;
  public static final int DEFAULT_SIZE = 32;

  /** How frames are encoded: PNG exercises the decode path downstream; raw skips encoding. */
  public enum Encoding {
    PNG,
    RAW_RGB
  }

  private final int classes;
  private final long seed;
  private final int size;
  private final Encoding encoding;
  private final String sourceId;
  private long index;
  private ImageWriter pngWriter;

  public SyntheticSource(int classes, long seed, int size, Encoding encoding, String sourceId) {
    if (classes < 1) {
      throw new IllegalArgumentException("synthetic classes must be at least 1, got " + classes);
    }
    if (size < 4 || size > 4096) {
      throw new IllegalArgumentException("synthetic image size must be in 4..4096, got " + size);
    }
    this.classes = classes;
    this.seed = seed;
    this.size = size;
    this.encoding = encoding;
    this.sourceId = sourceId;
  }

  public SyntheticSource(int classes, long seed, String sourceId) {
    this(classes, seed, DEFAULT_SIZE, Encoding.PNG, sourceId);
  }

  @Override
  public SourceEntry next() {
    long i = index++;
    Image img = image(i);
    byte[] data = encoding == Encoding.PNG ? png(img.rgb(), size) : img.rgb();
    return new SourceItem(
        sourceId,
        "synthetic#" + i,
        encoding == Encoding.PNG ? ContentType.PNG : ContentType.RAW_RGB,
        data,
        size,
        size,
        img.label(),
        System.currentTimeMillis(),
        Map.of(
            "generator",
            "synthetic-stripes-v1",
            "seed",
            Long.toString(seed),
            "index",
            Long.toString(i)));
  }

  /** Image {@code i}: its class and its pixels as interleaved RGB bytes (size×size×3). */
  public record Image(int label, byte[] rgb) {}

  /** Pure function of (seed, classes, size, i). */
  public Image image(long i) {
    // SplittableRandom's constructor mixes its seed; combining with a large odd constant keeps
    // (seed, i) pairs apart.
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
    int c = rnd.nextInt(classes);
    double theta = Math.PI * c / classes;
    double period = 4 + 2 * (c % 3);
    double phase = rnd.nextDouble(2 * Math.PI);
    double contrast = 0.6 + 0.4 * rnd.nextDouble();
    double brightness = 0.1 * (rnd.nextDouble() - 0.5);
    int tint = Color.HSBtoRGB((float) c / classes, 0.6f, 1f);
    double[] tintRgb = {
      ((tint >> 16) & 0xFF) / 255.0, ((tint >> 8) & 0xFF) / 255.0, (tint & 0xFF) / 255.0
    };
    double cos = Math.cos(theta);
    double sin = Math.sin(theta);
    Gaussian gauss = new Gaussian(rnd);
    byte[] rgb = new byte[size * size * 3]; // size×size×3, row-major
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double u = x * cos + y * sin;
        double v = 0.5 + 0.5 * contrast * Math.sin(2 * Math.PI * u / period + phase) + brightness;
        for (int ch = 0; ch < 3; ch++) {
          double p = v * tintRgb[ch] + 0.06 * gauss.next();
          rgb[(y * size + x) * 3 + ch] = (byte) Math.max(0, Math.min(255, Math.round(p * 255)));
        }
      }
    }
    return new Image(c, rgb);
  }

  /**
   * Standard normal numbers by Box–Muller from the image's own generator, both values of each pair
   * used (SplittableRandom has no nextGaussian on Java 17, and java.util.Random's would be a
   * second, shared stream).
   */
  private static final class Gaussian {
    private final SplittableRandom rnd;
    private double spare;
    private boolean hasSpare;

    Gaussian(SplittableRandom rnd) {
      this.rnd = rnd;
    }

    double next() {
      if (hasSpare) {
        hasSpare = false;
        return spare;
      }
      double r = Math.sqrt(-2 * Math.log(1.0 - rnd.nextDouble())); // 1 - u in (0, 1]
      double a = 2 * Math.PI * rnd.nextDouble();
      spare = r * Math.sin(a);
      hasSpare = true;
      return r * Math.cos(a);
    }
  }

  /** PNG of an interleaved RGB image, written with this source's (reused) writer. */
  private byte[] png(byte[] rgb, int size) {
    if (pngWriter == null) {
      pngWriter = ImageIO.getImageWritersByFormatName("png").next();
    }
    return png(rgb, size, pngWriter);
  }

  static byte[] png(byte[] rgb, int size, ImageWriter writer) {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData(); // size×size×3, B G R
    for (int o = 0; o < rgb.length; o += 3) {
      bgr[o] = rgb[o + 2];
      bgr[o + 1] = rgb[o + 1];
      bgr[o + 2] = rgb[o];
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(size * size * 3 + 1024);
    // A memory-cached stream: ImageIO.write(img, fmt, OutputStream) would spill through a temp
    // file.
    try (ImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(img);
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding in memory failed", e);
    } finally {
      writer.setOutput(null);
    }
    return out.toByteArray();
  }

  public int classes() {
    return classes;
  }

  @Override
  public void rewind() {
    index = 0;
  }

  @Override
  public String describe() {
    return "synthetic "
        + classes
        + " classes, "
        + size
        + "×"
        + size
        + " "
        + encoding
        + ", seed "
        + seed;
  }

  @Override
  public void close() {
    if (pngWriter != null) {
      pngWriter.dispose();
      pngWriter = null;
    }
  }
}
