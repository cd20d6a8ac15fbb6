package io.mocostream.ingest;

import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * One frame made ready for training: the frame contract applied and the image decoded within the
 * pixel budget ({@link ImageDecoder}), resized by area averaging to the training resolution
 * (shorter side {@code size}, aspect kept, never upscaled), re-encoded ({@link OutputFormat}), with
 * its dHash for the near-duplicate check. Source id, sequence, capture time, label and attributes
 * are kept; two attributes are added (and any a writer forged under those names replaced): {@value
 * #ORIGIN_ATTRIBUTE} and {@value #SOURCE_SIZE_ATTRIBUTE}.
 *
 * <p>Deterministic: the same frame gives the same bytes. Thread-safe.
 */
public final class Normalizer {
  /**
   * {@code topic-partition@offset} of the raw frame, to trace a training frame back to what the
   * camera sent.
   */
  public static final String ORIGIN_ATTRIBUTE = "mocostream.ingest.origin";

  /** The raw frame's {@code WIDTHxHEIGHT} before resizing. */
  public static final String SOURCE_SIZE_ATTRIBUTE = "mocostream.ingest.source_size";

  /** How resized frames are written to the training topic. */
  public enum OutputFormat {
    /** RAW_GREY / RAW_RGB: no codec on either side; 12 KiB for a 64×64 RGB frame. */
    RAW,
    /**
     * PNG: lossless, smaller on the wire for natural images, a deflate per frame here and an
     * inflate in the trainer.
     */
    PNG
  }

  /** A normalised frame and the hash of its pixels. */
  public record Normalized(ImageFrame frame, long hash, int sourceWidth, int sourceHeight) {}

  private final ImageDecoder decoder;
  private final int size;
  private final OutputFormat format;

  /**
   * @param decoder the frame contract (byte and pixel limits, decode budget)
   * @param size shorter side of the training resolution
   * @param format how the resized pixels are written
   */
  public Normalizer(ImageDecoder decoder, int size, OutputFormat format) {
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    if (size < 1) {
      throw new IllegalArgumentException("size must be >= 1, got " + size);
    }
    this.size = size;
    this.format = Objects.requireNonNull(format, "format");
  }

  /**
   * @param where the record's {@code topic-partition@offset}
   * @throws FrameRejectedException when the frame breaks the contract or does not decode
   */
  public Normalized normalize(ImageFrame frame, String where) {
    String input = ImageDecoder.describe(frame) + " at " + where;
    DecodedImage decoded = decoder.decode(frame, input);
    // The decode may have been subsampled by a whole step to fit the budget; the source size is the
    // header's.
    int sourceWidth = frame.getWidth() != null ? frame.getWidth() : decoded.width();
    int sourceHeight = frame.getHeight() != null ? frame.getHeight() : decoded.height();
    DecodedImage resized = AreaResize.shorterSide(decoded, size);
    long hash = DHash.of(resized);
    ContentType type;
    byte[] data;
    if (format == OutputFormat.PNG) {
      type = ContentType.PNG;
      data = png(resized);
    } else {
      type = resized.channels() == 1 ? ContentType.RAW_GREY : ContentType.RAW_RGB;
      data = resized.pixels();
    }
    Map<String, String> attributes = new HashMap<>(frame.getAttributes());
    attributes.put(ORIGIN_ATTRIBUTE, where);
    attributes.put(SOURCE_SIZE_ATTRIBUTE, sourceWidth + "x" + sourceHeight);
    ImageFrame out =
        ImageFrame.newBuilder()
            .setSourceId(frame.getSourceId())
            .setSequence(frame.getSequence())
            .setCaptureTime(frame.getCaptureTime())
            .setContentType(type)
            .setData(ByteBuffer.wrap(data))
            .setWidth(resized.width())
            .setHeight(resized.height())
            .setLabel(frame.getLabel())
            .setAttributes(attributes)
            .build();
    return new Normalized(out, hash, sourceWidth, sourceHeight);
  }

  /** PNG bytes of an 8-bit grey or RGB image. */
  static byte[] png(DecodedImage image) {
    int w = image.width();
    int h = image.height();
    BufferedImage bi =
        new BufferedImage(
            w,
            h,
            image.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
    byte[] dst = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
    byte[] src = image.pixels();
    if (image.channels() == 1) {
      System.arraycopy(src, 0, dst, 0, src.length);
    } else {
      for (int i = 0; i < src.length; i += 3) { // RGB → the raster's BGR
        dst[i] = src[i + 2];
        dst[i + 1] = src[i + 1];
        dst[i + 2] = src[i];
      }
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream(src.length / 2 + 64);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
    // MemoryCacheImageOutputStream: never a temp file, whatever ImageIO.getUseCache() says.
    try (ImageOutputStream ios = new MemoryCacheImageOutputStream(buf)) {
      writer.setOutput(ios);
      writer.write(bi);
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding in memory failed", e);
    } finally {
      writer.dispose();
    }
    return buf.toByteArray();
  }
}
