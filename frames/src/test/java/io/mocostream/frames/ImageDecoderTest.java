package io.mocostream.frames;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {

  private final ImageDecoder decoder = new ImageDecoder();

  /** A 40×30 RGB image whose pixels encode their position, so any shuffling shows. */
  private static BufferedImage rgbPattern(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (x * 6) << 16 | (y * 8) << 8 | ((x * 3 + y * 5) & 0xFF));
      }
    }
    return img;
  }

  private static byte[] encode(BufferedImage img, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out), "no ImageIO writer for " + format);
    return out.toByteArray();
  }

  private static FrameRejectedException rejected(Reason expected, Runnable decode) {
    FrameRejectedException e = assertThrows(FrameRejectedException.class, decode::run);
    assertEquals(expected, e.reason(), e.getMessage());
    return e;
  }

  @Test
  void pngRgbDecodesExactly() throws IOException {
    BufferedImage src = rgbPattern(40, 30);
    DecodedImage d = decoder.decode(ContentType.PNG, encode(src, "png"), null, null, "t");
    assertEquals(40, d.width());
    assertEquals(30, d.height());
    assertEquals(3, d.channels());
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        int rgb = src.getRGB(x, y);
        assertEquals((rgb >> 16) & 0xFF, d.sample(x, y, 0));
        assertEquals((rgb >> 8) & 0xFF, d.sample(x, y, 1));
        assertEquals(rgb & 0xFF, d.sample(x, y, 2));
      }
    }
  }

  @Test
  void greyPngStaysOneChannelWithExactSamples() throws IOException {
    BufferedImage src = new BufferedImage(17, 9, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 9; y++) {
      for (int x = 0; x < 17; x++) {
        src.getRaster().setSample(x, y, 0, x * 15 + y);
      }
    }
    DecodedImage d = decoder.decode(ContentType.PNG, encode(src, "png"), 17, 9, "t");
    assertEquals(1, d.channels());
    for (int y = 0; y < 9; y++) {
      for (int x = 0; x < 17; x++) {
        assertEquals(x * 15 + y, d.sample(x, y, 0));
      }
    }
  }

  @Test
  void sixteenBitGreyPngIsScaledToEightBits() throws IOException {
    BufferedImage src = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
    src.getRaster().setSample(0, 0, 0, 0);
    src.getRaster().setSample(1, 0, 0, 65535);
    src.getRaster().setSample(2, 0, 0, 32896); // 128 × 257
    DecodedImage d = decoder.decode(ContentType.PNG, encode(src, "png"), null, null, "t");
    assertEquals(1, d.channels());
    assertArrayEquals(new byte[] {0, (byte) 255, (byte) 128}, d.pixels());
  }

  @Test
  void jpegGifAndBmpDecode() throws IOException {
    BufferedImage src = rgbPattern(40, 30);
    DecodedImage jpeg = decoder.decode(ContentType.JPEG, encode(src, "jpeg"), 40, 30, "t");
    assertEquals(3, jpeg.channels());
    double err = 0;
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        err += Math.abs(((src.getRGB(x, y) >> 8) & 0xFF) - jpeg.sample(x, y, 1));
      }
    }
    assertTrue(err / 1200 < 6, "JPEG green channel mean abs error " + err / 1200);

    DecodedImage bmp = decoder.decode(ContentType.BMP, encode(src, "bmp"), null, null, "t");
    assertEquals(decoder.decode(ContentType.PNG, encode(src, "png"), null, null, "t"), bmp);

    // An explicit palette, 16×8: the JDK's GIF writer loses colours when it quantises RGB itself,
    // and
    // loses the last pixels of very small (4×2) images.
    IndexColorModel palette =
        new IndexColorModel(
            2,
            4,
            new byte[] {0, (byte) 255, 0, 0},
            new byte[] {0, 0, 0, (byte) 255},
            new byte[] {0, 0, (byte) 255, 0});
    BufferedImage two = new BufferedImage(16, 8, BufferedImage.TYPE_BYTE_BINARY, palette);
    two.getRaster().setSample(0, 0, 0, 1);
    two.getRaster().setSample(3, 1, 0, 2);
    DecodedImage gif = decoder.decode(ContentType.GIF, encode(two, "gif"), null, null, "t");
    assertEquals(3, gif.channels());
    assertEquals(255, gif.sample(0, 0, 0));
    assertEquals(0, gif.sample(0, 0, 2));
    assertEquals(255, gif.sample(3, 1, 2));
    assertEquals(0, gif.sample(1, 0, 1));
  }

  @Test
  void decodesAnImageFrameRecord() throws IOException {
    byte[] png = encode(rgbPattern(8, 6), "png");
    ImageFrame frame =
        ImageFrame.newBuilder()
            .setSourceId("cam-7")
            .setSequence(42)
            .setCaptureTime(Instant.ofEpochMilli(0))
            .setContentType(ContentType.PNG)
            .setData(ByteBuffer.wrap(png))
            .setWidth(8)
            .setHeight(6)
            .setAttributes(Map.of())
            .build();
    assertEquals(8, decoder.decode(frame).width());

    ImageFrame empty = ImageFrame.newBuilder(frame).setData(ByteBuffer.allocate(0)).build();
    FrameRejectedException e = rejected(Reason.EMPTY, () -> decoder.decode(empty));
    assertTrue(e.getMessage().contains("cam-7") && e.getMessage().contains("42"), e.getMessage());
    assertEquals("source \"cam-7\" sequence 42", e.input());
  }

  @Test
  void hugeDeclaredPngIsRefusedFromItsHeaderWithoutAllocating() throws IOException {
    byte[] bomb = pngHeaderOnly(100_000, 100_000);
    assertTrue(bomb.length < 100, "crafted file is " + bomb.length + " bytes");
    // A limit far above the default still refuses it: 10^10 pixels.
    ImageDecoder generous = new ImageDecoder(new FrameLimits(1 << 20, 700_000_000L));
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    FrameRejectedException e =
        rejected(
            Reason.TOO_MANY_PIXELS,
            () -> generous.decode(ContentType.PNG, bomb, null, null, "bomb.png"));
    long allocated = mx.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated < 16L << 20, "allocated " + allocated + " bytes while refusing");
    assertTrue(
        e.getMessage().contains("100000x100000") && e.getMessage().contains("bomb.png"),
        e.getMessage());
  }

  @Test
  void truncatedJpegIsRefused() throws IOException {
    byte[] jpeg = encode(rgbPattern(64, 48), "jpeg");
    // Missing only its tail: ImageIO would return a grey-filled image with a warning.
    byte[] tail = Arrays.copyOf(jpeg, jpeg.length - 10);
    FrameRejectedException e =
        rejected(
            Reason.UNDECODABLE,
            () -> decoder.decode(ContentType.JPEG, tail, null, null, "cut.jpg"));
    assertTrue(e.getMessage().contains("cut.jpg"), e.getMessage());
    // Missing half: ImageIO throws.
    byte[] half = Arrays.copyOf(jpeg, jpeg.length / 2);
    rejected(
        Reason.UNDECODABLE, () -> decoder.decode(ContentType.JPEG, half, null, null, "half.jpg"));
  }

  @Test
  void emptyOversizedAndMislabelledPayloadsAreRefused() throws IOException {
    rejected(Reason.EMPTY, () -> decoder.decode(ContentType.PNG, new byte[0], null, null, "e"));
    rejected(Reason.EMPTY, () -> decoder.decode(ContentType.RAW_GREY, null, 1, 1, "e"));
    byte[] png = encode(rgbPattern(40, 30), "png");
    ImageDecoder small = new ImageDecoder(new FrameLimits(png.length - 1, 1_000_000));
    rejected(Reason.TOO_MANY_BYTES, () -> small.decode(ContentType.PNG, png, null, null, "big"));
    ImageDecoder fewPixels = new ImageDecoder(new FrameLimits(1 << 20, 40 * 30 - 1));
    rejected(
        Reason.TOO_MANY_PIXELS, () -> fewPixels.decode(ContentType.PNG, png, null, null, "big"));
    FrameRejectedException e =
        rejected(
            Reason.TYPE_MISMATCH,
            () -> decoder.decode(ContentType.JPEG, png, null, null, "png-as-jpeg"));
    assertTrue(e.getMessage().contains("declared JPEG but the bytes are PNG"), e.getMessage());
    rejected(
        Reason.SIZE_MISMATCH, () -> decoder.decode(ContentType.PNG, png, 41, 30, "wrong-size"));
    rejected(Reason.UNSUPPORTED_TYPE, () -> decoder.decode(null, png, null, null, "no-type"));
    byte[] garbage = Arrays.copyOf(png, 60);
    Arrays.fill(garbage, 16, 60, (byte) 7);
    rejected(
        Reason.UNDECODABLE, () -> decoder.decode(ContentType.PNG, garbage, null, null, "garbage"));
  }

  @Test
  void rawContentMustMatchItsDeclaredSize() {
    byte[] grey = {1, 2, 3, 4, 5, 6};
    DecodedImage g = decoder.decode(ContentType.RAW_GREY, grey, 3, 2, "raw");
    assertEquals(1, g.channels());
    assertEquals(6, g.sample(2, 1, 0));
    DecodedImage rgb = decoder.decode(ContentType.RAW_RGB, grey, 2, 1, "raw");
    assertEquals(3, rgb.channels());
    assertEquals(4, rgb.sample(1, 0, 0));

    FrameRejectedException e =
        rejected(
            Reason.SIZE_MISMATCH, () -> decoder.decode(ContentType.RAW_RGB, grey, 3, 2, "raw-7"));
    assertTrue(
        e.getMessage().contains("18")
            && e.getMessage().contains("6")
            && e.getMessage().contains("raw-7"),
        e.getMessage());
    rejected(
        Reason.SIZE_MISMATCH, () -> decoder.decode(ContentType.RAW_GREY, grey, null, 2, "raw"));
    rejected(Reason.SIZE_MISMATCH, () -> decoder.decode(ContentType.RAW_GREY, grey, -3, -2, "raw"));
    rejected(
        Reason.TOO_MANY_PIXELS,
        () -> decoder.decode(ContentType.RAW_GREY, grey, 100_000, 100_000, "raw"));
  }

  @Test
  void decodesFilesByTheirContentAndNamesThemInErrors(@TempDir Path dir) throws IOException {
    Path png = dir.resolve("picture.dat");
    Files.write(png, encode(rgbPattern(5, 4), "png"));
    assertEquals(5, decoder.decode(png).width());
    Path text = dir.resolve("notes.jpg");
    Files.writeString(text, "not an image at all");
    FrameRejectedException e =
        assertThrows(FrameRejectedException.class, () -> decoder.decode(text));
    assertEquals(Reason.UNSUPPORTED_TYPE, e.reason());
    assertTrue(e.getMessage().contains("notes.jpg"), e.getMessage());
    Path empty = dir.resolve("empty.png");
    Files.write(empty, new byte[0]);
    assertEquals(
        Reason.EMPTY,
        assertThrows(FrameRejectedException.class, () -> decoder.decode(empty)).reason());
  }

  /** A PNG signature, a valid IHDR chunk (8-bit RGB) declaring w × h, a tiny IDAT and IEND. */
  private static byte[] pngHeaderOnly(int w, int h) {
    ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 1 + 12);
    b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
    ByteBuffer ihdr =
        ByteBuffer.allocate(13)
            .putInt(w)
            .putInt(h)
            .put((byte) 8)
            .put((byte) 2)
            .put((byte) 0)
            .put((byte) 0)
            .put((byte) 0);
    chunk(b, "IHDR", ihdr.array());
    chunk(b, "IDAT", new byte[] {0});
    chunk(b, "IEND", new byte[0]);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static void chunk(ByteBuffer b, String type, byte[] data) {
    b.putInt(data.length);
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    b.put(t).put(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    b.putInt((int) crc.getValue());
  }
}
