package io.mocostream.frames;

import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a frame's payload into an 8-bit {@link DecodedImage} (JPEG, PNG, GIF and BMP through {@code
 * javax.imageio}, raw grey/RGB directly), or refuses it with a {@link FrameRejectedException}
 * naming the input and a {@link Reason}. Every stage decodes through this class, so a frame the
 * producer publishes is a frame the trainer accepts.
 *
 * <p>Order, cheapest and safest first, nothing the image's size allocated before the last step:
 *
 * <ol>
 *   <li>payload empty or over {@link FrameLimits#maxBytes()};
 *   <li>the format from the magic bytes (never from a name), which must agree with the declared
 *       content type;
 *   <li>format-specific header checks ImageIO lacks: a BMP's compression (embedded JPEG/PNG is
 *       refused) and its declared image-data size (the JDK reader allocates {@code biSizeImage}
 *       bytes from the header);
 *   <li>width × height from the header ({@code ImageReader.getWidth/getHeight} parse only the
 *       header) against {@link FrameLimits#maxPixels()}, and against the frame's declared size when
 *       it has one;
 *   <li>the decode, subsampled so that at most {@code decodePixels} pixels are allocated: a 40 Mpx
 *       camera frame is read whole (truncation and corruption are still found) into a raster of at
 *       most the budget.
 * </ol>
 *
 * A truncated JPEG, which ImageIO "decodes" with a grey lower part and only a warning, is refused.
 * Any Throwable from inside a codec (ImageIO signals corrupt streams with IndexOutOfBounds,
 * NegativeArraySize, ...) becomes a refusal of that one frame.
 *
 * <p>Output channels: grey images (1/2/4/8/16-bit grey PNGs, scaled to 8 bits) stay 1 channel;
 * everything else (palette, RGB, with or without alpha) becomes RGB. Alpha is dropped, not
 * composited: camera frames have none, and any fixed background would be an arbitrary choice.
 * Animated GIFs yield their first frame. Thread-safe: each call uses its own {@link ImageReader}.
 */
public final class ImageDecoder {
  private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);

  private final FrameLimits limits;
  private final long decodePixels;

  /** A decoder with {@link FrameLimits#DEFAULT} and the default decode budget. */
  public ImageDecoder() {
    this(FrameLimits.DEFAULT);
  }

  public ImageDecoder(FrameLimits limits) {
    this(limits, FrameLimits.DEFAULT_DECODE_PIXELS);
  }

  /**
   * @param decodePixels most pixels one decode allocates; larger images are subsampled by a whole
   *     step to fit
   */
  public ImageDecoder(FrameLimits limits, long decodePixels) {
    this.limits = Objects.requireNonNull(limits, "limits");
    if (decodePixels <= 0) {
      throw new IllegalArgumentException("decodePixels must be positive, got " + decodePixels);
    }
    this.decodePixels = decodePixels;
  }

  public FrameLimits limits() {
    return limits;
  }

  /** Most pixels one decode allocates. */
  public long decodePixels() {
    return decodePixels;
  }

  /**
   * What an inspected frame turned out to be: its content type and its full (not subsampled) size.
   */
  public record ImageInfo(ContentType contentType, int width, int height) {}

  /** How rejection messages name a frame: {@code source "cam-1" sequence 42}. */
  public static String describe(ImageFrame frame) {
    return "source \""
        + Text.printable(frame.getSourceId(), 200)
        + "\" sequence "
        + frame.getSequence();
  }

  /** Decodes a frame, naming it by source id and sequence number in any rejection. */
  public DecodedImage decode(ImageFrame frame) {
    return decode(frame, describe(frame));
  }

  /**
   * Decodes a frame, naming it {@code input} in any rejection (e.g. with its
   * topic-partition@offset).
   */
  public DecodedImage decode(ImageFrame frame, String input) {
    return decode(
        frame.getContentType(), bytes(frame.getData()), frame.getWidth(), frame.getHeight(), input);
  }

  /**
   * Decodes a payload within the decode budget.
   *
   * @param type how {@code data} is encoded
   * @param width pixels per row: required for raw content, checked against the header otherwise
   *     (may be null)
   * @param height rows; like {@code width}
   * @param input names the input in rejection messages
   * @throws FrameRejectedException when the payload is empty, over a limit, inconsistent or not
   *     decodable
   */
  public DecodedImage decode(
      ContentType type, byte[] data, Integer width, Integer height, String input) {
    return check(type, data, width, height, input, true).image;
  }

  /**
   * Decodes an encoded image (JPEG, PNG, GIF or BMP) whose format is found from its magic bytes.
   */
  public DecodedImage decode(byte[] encoded, String input) {
    return check(null, encoded, null, null, input, false).image;
  }

  /**
   * Checks a frame as {@link #decode} does (the decode included, within the budget, so corrupt and
   * truncated images are refused) and returns what it is. The producer's check before publishing.
   *
   * @param declared the content type the sender claims, or null to go by the magic bytes alone
   */
  public ImageInfo inspect(
      ContentType declared, byte[] data, Integer width, Integer height, String input) {
    Checked c = check(declared, data, width, height, input, declared != null);
    return new ImageInfo(c.type, c.width, c.height);
  }

  /**
   * Decodes an image file, its format found from its leading bytes (not its name).
   *
   * @throws IOException when the file cannot be read
   * @throws FrameRejectedException when it is not an acceptable image; the file is named in the
   *     message
   */
  public DecodedImage decode(Path file) throws IOException {
    String input = "file " + file;
    long size = Files.size(file);
    if (size > limits.maxBytes()) {
      throw new FrameRejectedException(
          Reason.TOO_MANY_BYTES, input, size + " bytes exceed the limit of " + limits.maxBytes());
    }
    return check(null, Files.readAllBytes(file), null, null, input, false).image;
  }

  private record Checked(ContentType type, int width, int height, DecodedImage image) {}

  private Checked check(
      ContentType declared,
      byte[] data,
      Integer width,
      Integer height,
      String input,
      boolean declaredMatters) {
    if (data == null || data.length == 0) {
      throw new FrameRejectedException(
          Reason.EMPTY,
          input,
          "no payload bytes" + (declared == null ? "" : " (content type " + declared + ")"));
    }
    if (data.length > limits.maxBytes()) {
      throw new FrameRejectedException(
          Reason.TOO_MANY_BYTES,
          input,
          data.length + " bytes exceed the limit of " + limits.maxBytes());
    }
    if (declared == ContentType.RAW_GREY || declared == ContentType.RAW_RGB) {
      DecodedImage raw =
          decodeRaw(data, width, height, declared == ContentType.RAW_GREY ? 1 : 3, input);
      return new Checked(declared, width, height, raw);
    }
    if (declaredMatters && declared == null) {
      throw new FrameRejectedException(Reason.UNSUPPORTED_TYPE, input, "no content type");
    }
    ContentType sniffed =
        ImageFormats.sniff(data)
            .orElseThrow(
                () ->
                    new FrameRejectedException(
                        Reason.UNSUPPORTED_TYPE,
                        input,
                        "not a JPEG, PNG, GIF or BMP image (starts with "
                            + ImageFormats.hexPrefix(data, 8)
                            + ")"));
    if (declared != null && declared != sniffed) {
      if (!ImageFormats.isEncoded(declared)) {
        // Avro may hand us a symbol added by a later schema version.
        throw new FrameRejectedException(
            Reason.UNSUPPORTED_TYPE,
            input,
            "content type " + declared + " is not decodable by this version");
      }
      throw new FrameRejectedException(
          Reason.TYPE_MISMATCH, input, "declared " + declared + " but the bytes are " + sniffed);
    }
    if (sniffed == ContentType.BMP) {
      checkBmpHeader(data, limits, input);
    }
    return decodeEncoded(sniffed, data, width, height, input);
  }

  private DecodedImage decodeRaw(
      byte[] data, Integer width, Integer height, int channels, String input) {
    String kind = channels == 1 ? "RAW_GREY" : "RAW_RGB";
    if (width == null || height == null) {
      throw new FrameRejectedException(
          Reason.SIZE_MISMATCH,
          input,
          kind + " needs width and height, got " + width + "x" + height);
    }
    if (width <= 0 || height <= 0) {
      throw new FrameRejectedException(
          Reason.SIZE_MISMATCH,
          input,
          kind + " dimensions must be positive, got " + width + "x" + height);
    }
    long pixels = (long) width * height;
    if (pixels > limits.maxPixels()) {
      throw new FrameRejectedException(
          Reason.TOO_MANY_PIXELS,
          input,
          width
              + "x"
              + height
              + " = "
              + pixels
              + " pixels exceed the limit of "
              + limits.maxPixels());
    }
    long expected = pixels * channels;
    if (data.length != expected) {
      throw new FrameRejectedException(
          Reason.SIZE_MISMATCH,
          input,
          kind + " " + width + "x" + height + " needs " + expected + " bytes, got " + data.length);
    }
    int step = subsampling(width, height);
    if (step == 1) {
      return new DecodedImage(width, height, channels, data.clone());
    }
    int w = ceilDiv(width, step);
    int h = ceilDiv(height, step);
    byte[] px = new byte[w * h * channels];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        System.arraycopy(
            data, ((y * step) * width + x * step) * channels, px, (y * w + x) * channels, channels);
      }
    }
    return new DecodedImage(w, h, channels, px);
  }

  private Checked decodeEncoded(
      ContentType type, byte[] data, Integer width, Integer height, String input) {
    String format = ImageFormats.formatName(type);
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
    if (!readers.hasNext()) {
      throw new FrameRejectedException(
          Reason.UNSUPPORTED_TYPE, input, "no ImageIO reader for " + format);
    }
    ImageReader reader = readers.next();
    // MemoryCacheImageInputStream: never a temp file, whatever ImageIO.getUseCache() says.
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
      reader.setInput(in, true, true);
      List<String> warnings = new ArrayList<>();
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
      // Header only: nothing the size of the image is allocated yet.
      int w = reader.getWidth(0);
      int h = reader.getHeight(0);
      if (w <= 0 || h <= 0) {
        throw new FrameRejectedException(
            Reason.UNDECODABLE, input, format + " header declares " + w + "x" + h);
      }
      long pixels = (long) w * h;
      if (pixels > limits.maxPixels()) {
        throw new FrameRejectedException(
            Reason.TOO_MANY_PIXELS,
            input,
            format
                + " header declares "
                + w
                + "x"
                + h
                + " = "
                + pixels
                + " pixels, over the limit of "
                + limits.maxPixels());
      }
      if ((width != null && width != w) || (height != null && height != h)) {
        throw new FrameRejectedException(
            Reason.SIZE_MISMATCH,
            input,
            "frame declares "
                + width
                + "x"
                + height
                + " but the "
                + format
                + " header says "
                + w
                + "x"
                + h);
      }
      ImageReadParam param = reader.getDefaultReadParam();
      int step = subsampling(w, h);
      if (step > 1) {
        param.setSourceSubsampling(step, step, 0, 0);
      }
      BufferedImage image = reader.read(0, param);
      for (String warning : warnings) {
        if (isCorruption(warning)) {
          throw new FrameRejectedException(
              Reason.UNDECODABLE,
              input,
              format + " " + w + "x" + h + " is truncated or corrupt: " + warning);
        }
        LOG.debug("{}: {} decoder warning ignored: {}", input, format, warning);
      }
      return new Checked(type, w, h, toDecoded(image, input));
    } catch (FrameRejectedException e) {
      throw e;
    } catch (IOException | RuntimeException | LinkageError | VirtualMachineError e) {
      // Codecs fail in many ways on hostile input, out-of-memory on a bomb that slipped past the
      // checks included:
      // every one of them is this frame's refusal, never the stage's end.
      throw new FrameRejectedException(
          Reason.UNDECODABLE, input, "cannot decode " + format + ": " + e, e);
    } finally {
      reader.dispose();
    }
  }

  /**
   * The whole-pixel step that brings width × height within the decode budget (1 = no subsampling).
   */
  private int subsampling(int width, int height) {
    long pixels = (long) width * height;
    if (pixels <= decodePixels) {
      return 1;
    }
    int step = (int) Math.ceil(Math.sqrt((double) pixels / decodePixels));
    while ((long) ceilDiv(width, step) * ceilDiv(height, step) > decodePixels) {
      step++;
    }
    return step;
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /**
   * What the JDK's BMP reader would trust from the header: compression 4/5 (an embedded JPEG or
   * PNG, decoded by a nested reader with no limit) and {@code biSizeImage}, which it allocates for
   * compressed data before reading a byte of it. A BMP is refused unless its declared data size
   * fits in the bytes it actually has.
   */
  /**
   * DIB header sizes: core (12), OS/2 2.x (16, 64), info (40), v2 (52), v3 (56), v4 (108), v5
   * (124).
   */
  private static final java.util.Set<Long> BMP_HEADER_SIZES =
      java.util.Set.of(12L, 16L, 40L, 52L, 56L, 64L, 108L, 124L);

  private static void checkBmpHeader(byte[] data, FrameLimits limits, String input) {
    if (data.length < 26) {
      throw new FrameRejectedException(
          Reason.UNDECODABLE, input, "BMP header truncated at " + data.length + " bytes");
    }
    long headerSize = u32(data, 14);
    if (!BMP_HEADER_SIZES.contains(headerSize)) {
      // "BM" is two letters of ASCII text: without a known DIB header size the rest is not read as
      // one.
      throw new FrameRejectedException(
          Reason.UNDECODABLE,
          input,
          "not a BMP: DIB header size " + headerSize + " is none of " + BMP_HEADER_SIZES);
    }
    if (headerSize < 40) {
      return; // OS/2 BITMAPCOREHEADER: no compression, no image-size field
    }
    if (data.length < 54) {
      throw new FrameRejectedException(
          Reason.UNDECODABLE, input, "BMP info header truncated at " + data.length + " bytes");
    }
    // The JDK reader refuses some oversized headers itself, with its own words; the pixel limit
    // speaks first.
    long width = (int) u32(data, 18);
    long height = Math.abs((long) (int) u32(data, 22)); // negative: rows stored top-down
    if (width > 0 && width * height > limits.maxPixels()) {
      throw new FrameRejectedException(
          Reason.TOO_MANY_PIXELS,
          input,
          "BMP header declares "
              + width
              + "x"
              + height
              + " = "
              + width * height
              + " pixels, over the limit of "
              + limits.maxPixels());
    }
    long compression = u32(data, 30);
    if (compression == 4 || compression == 5) {
      throw new FrameRejectedException(
          Reason.UNSUPPORTED_TYPE,
          input,
          "BMP with an embedded "
              + (compression == 4 ? "JPEG" : "PNG")
              + " (compression "
              + compression
              + ")");
    }
    long sizeImage = u32(data, 34);
    if (sizeImage > data.length) {
      throw new FrameRejectedException(
          Reason.UNDECODABLE,
          input,
          "BMP header declares "
              + sizeImage
              + " bytes of image data but the file has "
              + data.length);
    }
  }

  private static long u32(byte[] d, int at) {
    return (d[at] & 0xFFL)
        | (d[at + 1] & 0xFFL) << 8
        | (d[at + 2] & 0xFFL) << 16
        | (d[at + 3] & 0xFFL) << 24;
  }

  /**
   * Warnings that mean pixels are missing (libjpeg fills them with grey and carries on). Others,
   * like "extraneous bytes before marker" that some cameras produce, leave the image whole and are
   * only logged.
   */
  private static boolean isCorruption(String warning) {
    String w = warning.toLowerCase(Locale.ROOT);
    return w.contains("truncated") || w.contains("premature end") || w.contains("missing eoi");
  }

  private static DecodedImage toDecoded(BufferedImage image, String input) {
    int w = image.getWidth();
    int h = image.getHeight();
    ColorModel cm = image.getColorModel();
    Raster raster = image.getRaster();
    if (cm.getNumColorComponents() == 1 && !(cm instanceof IndexColorModel)) {
      // Read grey samples from the raster: getRGB() would push them through a gamma conversion.
      int bits = cm.getComponentSize(0);
      int max = (1 << bits) - 1;
      byte[] px = new byte[w * h];
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          px[y * w + x] = (byte) (bits == 8 ? row[x] : (row[x] * 255 + max / 2) / max);
        }
      }
      return new DecodedImage(w, h, 1, px);
    }
    if (cm.getNumColorComponents() != 3 && !(cm instanceof IndexColorModel)) {
      throw new FrameRejectedException(
          Reason.UNSUPPORTED_TYPE,
          input,
          cm.getNumColorComponents() + "-component colour space (e.g. CMYK) is not supported");
    }
    byte[] px = new byte[w * h * 3];
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      image.getRGB(0, y, w, 1, row, 0, w);
      int o = y * w * 3;
      for (int x = 0; x < w; x++) {
        int argb = row[x];
        px[o++] = (byte) (argb >> 16);
        px[o++] = (byte) (argb >> 8);
        px[o++] = (byte) argb;
      }
    }
    return new DecodedImage(w, h, 3, px);
  }

  private static byte[] bytes(ByteBuffer buf) {
    if (buf == null) {
      return null;
    }
    ByteBuffer b = buf.duplicate();
    byte[] data = new byte[b.remaining()];
    b.get(data);
    return data;
  }
}
