package io.mocostream.ingest;

import io.mocostream.frames.DecodedImage;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Seeded synthetic camera scenes for the ingest bench and tests: a gradient background, a dozen
 * shapes and sensor noise, so that JPEG compresses them like photos (not like flat test cards) and
 * two seeds are two scenes (dHash about 32 bits apart). {@link #jitter} makes the same scene a
 * moment later: noise only, a near-duplicate.
 */
public final class SyntheticScenes {
  private SyntheticScenes() {}

  /** A {@code width × height} RGB scene decided by {@code seed}. */
  public static BufferedImage scene(int width, int height, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setPaint(
          new GradientPaint(
              0, 0, color(rnd), width * (float) rnd.nextDouble(), height, color(rnd)));
      g.fillRect(0, 0, width, height);
      for (int i = 0; i < 12; i++) {
        g.setColor(color(rnd));
        int w = 1 + rnd.nextInt(Math.max(1, width / 2));
        int h = 1 + rnd.nextInt(Math.max(1, height / 2));
        int x = rnd.nextInt(Math.max(1, width)) - w / 2;
        int y = rnd.nextInt(Math.max(1, height)) - h / 2;
        if (rnd.nextBoolean()) {
          g.fillOval(x, y, w, h);
        } else {
          g.fillRect(x, y, w, h);
        }
      }
    } finally {
      g.dispose();
    }
    return jitter(img, seed ^ 0x5DEECE66DL, 6);
  }

  /**
   * A copy of {@code image} with uniform noise of ±{@code amplitude} per sample: sensor noise, a
   * moment later.
   */
  public static BufferedImage jitter(BufferedImage image, long seed, int amplitude) {
    SplittableRandom rnd = new SplittableRandom(seed);
    BufferedImage out =
        new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    byte[] src =
        ((java.awt.image.DataBufferByte) toBgr(image).getRaster().getDataBuffer()).getData();
    byte[] dst = ((java.awt.image.DataBufferByte) out.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < src.length; i++) {
      int v = (src[i] & 0xFF) + rnd.nextInt(2 * amplitude + 1) - amplitude;
      dst[i] = (byte) Math.max(0, Math.min(255, v));
    }
    return out;
  }

  /** The image as 8-bit RGB pixels. */
  public static DecodedImage pixels(BufferedImage image) {
    byte[] bgr =
        ((java.awt.image.DataBufferByte) toBgr(image).getRaster().getDataBuffer()).getData();
    byte[] rgb = new byte[bgr.length];
    for (int i = 0; i < bgr.length; i += 3) {
      rgb[i] = bgr[i + 2];
      rgb[i + 1] = bgr[i + 1];
      rgb[i + 2] = bgr[i];
    }
    return new DecodedImage(image.getWidth(), image.getHeight(), 3, rgb);
  }

  /** JPEG bytes at {@code quality} (0..1), as a camera would send. */
  public static byte[] jpeg(BufferedImage image, float quality) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (ImageOutputStream ios = new MemoryCacheImageOutputStream(buf)) {
      writer.setOutput(ios);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(toBgr(image), null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding in memory failed", e);
    } finally {
      writer.dispose();
    }
    return buf.toByteArray();
  }

  /** PNG bytes. */
  public static byte[] png(BufferedImage image) {
    return Normalizer.png(pixels(image));
  }

  private static BufferedImage toBgr(BufferedImage image) {
    if (image.getType() == BufferedImage.TYPE_3BYTE_BGR) {
      return image;
    }
    BufferedImage out =
        new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = out.createGraphics();
    g.drawImage(image, 0, 0, null);
    g.dispose();
    return out;
  }

  private static Color color(SplittableRandom rnd) {
    return new Color(rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256));
  }
}
