package io.mocostream.producer.testing;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Real encoded images made with ImageIO, and crafted headers, for tests. */
public final class TestImages {
  private TestImages() {}

  /** A picture with some structure (gradient + shapes), so JPEG output is not trivially small. */
  public static BufferedImage picture(int w, int h, int type) {
    BufferedImage img = new BufferedImage(w, h, type);
    Graphics2D g = img.createGraphics();
    for (int y = 0; y < h; y++) {
      g.setColor(
          new Color((y * 255) / Math.max(1, h - 1), 80, 255 - (y * 255) / Math.max(1, h - 1)));
      g.drawLine(0, y, w, y);
    }
    g.setColor(Color.YELLOW);
    g.fillOval(w / 4, h / 4, w / 2, h / 2);
    g.dispose();
    return img;
  }

  public static byte[] encode(BufferedImage img, String format) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(ios);
      writer.write(img);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  public static byte[] png(int w, int h) {
    return encode(picture(w, h, BufferedImage.TYPE_INT_RGB), "png");
  }

  public static byte[] jpeg(int w, int h) {
    return encode(picture(w, h, BufferedImage.TYPE_INT_RGB), "jpeg");
  }

  public static byte[] gif(int w, int h) {
    return encode(picture(w, h, BufferedImage.TYPE_INT_RGB), "gif");
  }

  public static byte[] bmp(int w, int h) {
    return encode(picture(w, h, BufferedImage.TYPE_INT_RGB), "bmp");
  }

  /**
   * A PNG that is valid up to and including a header declaring {@code w×h} RGB pixels, followed by
   * a tiny IDAT and IEND: decoding it would need w·h·4 bytes; reading the header needs none.
   */
  public static byte[] pngHeaderOnly(int w, int h) {
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01});
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    ByteBuffer len = ByteBuffer.allocate(4).putInt(data.length);
    out.writeBytes(len.array());
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  /** A baseline JPEG whose SOF0 declares {@code w×h} (≤ 65535 each), with no scan data after it. */
  public static byte[] jpegHeaderOnly(int w, int h) {
    byte[] real = jpeg(16, 16);
    // Patch the SOF0 frame header of a real JPEG: FF C0, length, precision, height, width.
    for (int i = 2; i + 9 < real.length; i++) {
      if ((real[i] & 0xFF) == 0xFF && (real[i + 1] & 0xFF) == 0xC0) {
        real[i + 5] = (byte) (h >> 8);
        real[i + 6] = (byte) h;
        real[i + 7] = (byte) (w >> 8);
        real[i + 8] = (byte) w;
        return real;
      }
    }
    throw new IllegalStateException("no SOF0 marker in ImageIO's JPEG");
  }
}
