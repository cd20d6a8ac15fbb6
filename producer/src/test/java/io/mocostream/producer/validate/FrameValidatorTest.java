package io.mocostream.producer.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.ImageFormats;
import io.mocostream.frames.Reason;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.schemas.ContentType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FrameValidatorTest {
  private final FrameValidator validator = new FrameValidator(FrameLimits.DEFAULT);

  private static Verdict.Accepted accepted(Verdict v) {
    return assertInstanceOf(Verdict.Accepted.class, v, () -> "expected acceptance, got " + v);
  }

  private static Refusal refused(Verdict v, Reason reason) {
    Refusal r = assertInstanceOf(Refusal.class, v, () -> "expected a refusal, got " + v);
    assertEquals(reason, r.reason(), r::toString);
    return r;
  }

  @Test
  void acceptsRealImagesOfEveryTypeWithTheirHeaderSize() {
    assertEquals(
        new Verdict.Accepted(ContentType.PNG, 40, 30),
        validator.validate("a.png", TestImages.png(40, 30), null, null, null));
    assertEquals(
        new Verdict.Accepted(ContentType.JPEG, 64, 48),
        validator.validate("a.jpg", TestImages.jpeg(64, 48), null, null, null));
    assertEquals(
        new Verdict.Accepted(ContentType.GIF, 20, 10),
        validator.validate("a.gif", TestImages.gif(20, 10), null, null, null));
    assertEquals(
        new Verdict.Accepted(ContentType.BMP, 7, 5),
        validator.validate("a.bmp", TestImages.bmp(7, 5), null, null, null));
  }

  @Test
  void hugePngHeaderIsRefusedFromTheHeaderAlone() {
    byte[] bomb = TestImages.pngHeaderOnly(100_000, 100_000);
    assertTrue(bomb.length < 100, "the crafted file is tiny: " + bomb.length);
    Refusal r =
        refused(validator.validate("bomb.png", bomb, null, null, null), Reason.TOO_MANY_PIXELS);
    assertTrue(r.message().contains("100000x100000"), r.message());
    assertEquals("bomb.png", r.origin());
  }

  @Test
  void hugeJpegHeaderIsRefusedFromTheHeaderAlone() {
    refused(
        validator.validate("big.jpg", TestImages.jpegHeaderOnly(60_000, 60_000), null, null, null),
        Reason.TOO_MANY_PIXELS);
  }

  @Test
  void pixelLimitIsConfigurable() {
    FrameValidator small = new FrameValidator(new FrameLimits(1 << 20, 100));
    refused(
        small.validate("x.png", TestImages.png(11, 10), null, null, null), Reason.TOO_MANY_PIXELS);
    accepted(small.validate("x.png", TestImages.png(10, 10), null, null, null));
  }

  @Test
  void truncatedJpegIsRefusedAlthoughImageIoWouldDecodeIt() {
    byte[] jpeg = TestImages.jpeg(256, 256);
    byte[] half = Arrays.copyOf(jpeg, jpeg.length / 2);
    Refusal r = refused(validator.validate("cut.jpg", half, null, null, null), Reason.UNDECODABLE);
    assertTrue(r.message().contains("256x256"), r.message());
  }

  @Test
  void truncatedPngAndGifAreRefused() {
    byte[] png = TestImages.png(128, 128);
    refused(
        validator.validate("cut.png", Arrays.copyOf(png, png.length / 2), null, null, null),
        Reason.UNDECODABLE);
    byte[] gif = TestImages.gif(128, 128);
    refused(
        validator.validate("cut.gif", Arrays.copyOf(gif, gif.length / 2), null, null, null),
        Reason.UNDECODABLE);
    byte[] bmp = TestImages.bmp(64, 64);
    refused(
        validator.validate("cut.bmp", Arrays.copyOf(bmp, bmp.length / 2), null, null, null),
        Reason.UNDECODABLE);
  }

  @Test
  void headerOnlyPngWithoutPixelDataIsRefused() {
    refused(
        validator.validate("hollow.png", TestImages.pngHeaderOnly(64, 64), null, null, null),
        Reason.UNDECODABLE);
  }

  @Test
  void emptyAndOversizedAreRefusedBySize() {
    refused(validator.validate("empty", new byte[0], null, null, null), Reason.EMPTY);
    FrameValidator small = new FrameValidator(new FrameLimits(100, 1_000_000));
    Refusal r =
        refused(
            small.validate("big.png", TestImages.png(32, 32), null, null, null),
            Reason.TOO_MANY_BYTES);
    assertTrue(r.message().contains("limit of 100"), r.message());
    assertTrue(small.checkSize("f", 101).isPresent());
    assertTrue(small.checkSize("f", 100).isEmpty());
    assertEquals(Reason.EMPTY, small.checkSize("f", 0).orElseThrow().reason());
  }

  @Test
  void garbageAndTextAreUnsupported() {
    byte[] text =
        "this is not an image, even if the file is called cat.jpg".getBytes(StandardCharsets.UTF_8);
    Refusal r =
        refused(validator.validate("cat.jpg", text, null, null, null), Reason.UNSUPPORTED_TYPE);
    assertTrue(r.message().contains("0x74686973"), r.message()); // "this"
    byte[] noise = new byte[1000];
    new java.util.SplittableRandom(7).nextBytes(noise);
    noise[0] = 1;
    refused(validator.validate("noise.bin", noise, null, null, null), Reason.UNSUPPORTED_TYPE);
  }

  @Test
  void magicDecidesNotTheNameButADeclaredTypeMustAgree() {
    byte[] png = TestImages.png(8, 8);
    // A PNG in a file called .jpg: the bytes win.
    assertEquals(
        ContentType.PNG,
        accepted(validator.validate("really-a-png.jpg", png, null, null, null)).contentType());
    // An upload declaring image/jpeg with PNG bytes: the client is wrong, refuse.
    Refusal r =
        refused(
            validator.validate("upload", png, ContentType.JPEG, null, null), Reason.TYPE_MISMATCH);
    assertTrue(r.message().contains("JPEG") && r.message().contains("PNG"), r.message());
  }

  @Test
  void validMagicWithCorruptBodyIsUndecodable() {
    byte[] jpeg = TestImages.jpeg(64, 64);
    byte[] corrupt = Arrays.copyOf(jpeg, 40); // SOI and part of the headers only
    refused(validator.validate("corrupt.jpg", corrupt, null, null, null), Reason.UNDECODABLE);
    byte[] fakePng = Arrays.copyOf(TestImages.png(8, 8), 20); // signature, then a cut IHDR
    refused(validator.validate("fake.png", fakePng, null, null, null), Reason.UNDECODABLE);
  }

  @Test
  void rawFramesMustMatchTheirDeclaredSize() {
    assertEquals(
        new Verdict.Accepted(ContentType.RAW_GREY, 28, 28),
        validator.validate("idx#0", new byte[784], ContentType.RAW_GREY, 28, 28));
    assertEquals(
        new Verdict.Accepted(ContentType.RAW_RGB, 4, 2),
        validator.validate("raw", new byte[24], ContentType.RAW_RGB, 4, 2));
    Refusal r =
        refused(
            validator.validate("idx#1", new byte[700], ContentType.RAW_GREY, 28, 28),
            Reason.SIZE_MISMATCH);
    assertTrue(r.message().contains("784") && r.message().contains("700"), r.message());
    refused(
        validator.validate("raw", new byte[10], ContentType.RAW_GREY, null, 10),
        Reason.SIZE_MISMATCH);
    refused(
        new FrameValidator(new FrameLimits(1 << 20, 100))
            .validate("raw", new byte[121], ContentType.RAW_GREY, 11, 11),
        Reason.TOO_MANY_PIXELS);
  }

  @Test
  void sniffAndMimeTypes() {
    assertEquals(ContentType.JPEG, ImageFormats.sniff(TestImages.jpeg(4, 4)).orElse(null));
    assertEquals(ContentType.GIF, ImageFormats.sniff(TestImages.gif(4, 4)).orElse(null));
    assertEquals(ContentType.BMP, ImageFormats.sniff(TestImages.bmp(4, 4)).orElse(null));
    assertNull(ImageFormats.sniff(new byte[] {'B', 'M'}).orElse(null));
    assertEquals(ContentType.JPEG, ImageFormats.fromMimeType("image/jpeg; charset=binary"));
    assertEquals(ContentType.PNG, ImageFormats.fromMimeType("IMAGE/PNG"));
    assertNull(ImageFormats.fromMimeType("text/plain"));
    assertEquals("image/gif", ImageFormats.mimeType(ContentType.GIF));
  }
}
