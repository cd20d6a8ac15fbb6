package io.mocostream.vision.image;

import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.vision.image.FrameRejectedException.Reason;

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
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the payload of an {@link ImageFrame} into an 8-bit {@link DecodedImage}: JPEG, PNG, GIF and BMP
 * through {@code javax.imageio}, raw grey/RGB bytes directly.
 *
 * <p>Everything bad is refused with a {@link FrameRejectedException} carrying a machine-readable
 * {@link Reason}, never dropped and never half-decoded:
 * <ul>
 *   <li>limits ({@link DecodeLimits}) are checked before any pixel is allocated: the payload length first,
 *       then the dimensions the image header declares ({@code ImageReader.getWidth/getHeight}, which parse
 *       only the header), or for raw content the declared width × height against the payload length;</li>
 *   <li>a truncated JPEG, which ImageIO would "decode" with a grey lower part and only a warning, is refused
 *       ({@link Reason#UNDECODABLE}): a corrupt frame is not a training image;</li>
 *   <li>if the frame declares width/height for a compressed image, they must agree with the header
 *       ({@link Reason#SIZE_MISMATCH}).</li>
 * </ul>
 *
 * <p>Output channels: greyscale images (including 1/2/4/16-bit grey PNGs, scaled to 8 bits) stay 1 channel;
 * everything else (palette, RGB, with or without alpha) becomes 3-channel RGB. Alpha is dropped, not
 * composited: camera frames have none, and any fixed background would be an arbitrary choice. Animated GIFs
 * yield their first frame. Thread-safe: each call uses its own {@link ImageReader}.
 */
public final class ImageDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);

    private final DecodeLimits limits;

    /** A decoder with {@link DecodeLimits#DEFAULT}. */
    public ImageDecoder() {
        this(DecodeLimits.DEFAULT);
    }

    public ImageDecoder(DecodeLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    public DecodeLimits limits() {
        return limits;
    }

    /** How rejection messages name a frame: {@code source "cam-1" sequence 42}. */
    public static String describe(ImageFrame frame) {
        return "source \"" + frame.getSourceId() + "\" sequence " + frame.getSequence();
    }

    /** Decodes a frame, naming it by source id and sequence number in any rejection. */
    public DecodedImage decode(ImageFrame frame) {
        return decode(frame, describe(frame));
    }

    /**
     * Decodes a frame, naming it {@code input} in any rejection (e.g. with the topic-partition@offset added).
     */
    public DecodedImage decode(ImageFrame frame, String input) {
        ByteBuffer buf = frame.getData();
        byte[] data = null;
        if (buf != null) {
            ByteBuffer b = buf.duplicate();
            data = new byte[b.remaining()];
            b.get(data);
        }
        return decode(frame.getContentType(), data, frame.getWidth(), frame.getHeight(), input);
    }

    /**
     * Decodes a payload.
     *
     * @param type   how {@code data} is encoded
     * @param data   the payload
     * @param width  pixels per row; required for raw content, checked against the header otherwise (may be null)
     * @param height rows; like {@code width}
     * @param input  names the input in rejection messages
     * @throws FrameRejectedException when the payload is empty, over a limit, inconsistent or not decodable
     */
    public DecodedImage decode(ContentType type, byte[] data, Integer width, Integer height, String input) {
        if (type == null) {
            throw new FrameRejectedException(Reason.UNSUPPORTED_TYPE, input, "no content type");
        }
        if (data == null || data.length == 0) {
            throw new FrameRejectedException(Reason.EMPTY, input, "no payload bytes (content type " + type + ")");
        }
        if (data.length > limits.maxBytes()) {
            throw new FrameRejectedException(Reason.TOO_MANY_BYTES, input,
                    data.length + " bytes exceed the limit of " + limits.maxBytes());
        }
        return switch (type) {
            case RAW_GREY -> decodeRaw(data, width, height, 1, input);
            case RAW_RGB -> decodeRaw(data, width, height, 3, input);
            case JPEG, PNG, GIF, BMP -> decodeCompressed(formatName(type), data, width, height, input);
            // Avro may hand us a symbol added by a later schema version.
            default -> throw new FrameRejectedException(Reason.UNSUPPORTED_TYPE, input,
                    "content type " + type + " is not decodable by this trainer");
        };
    }

    /**
     * Decodes an image file, its format found from its leading bytes (not its name).
     *
     * @throws IOException            when the file cannot be read
     * @throws FrameRejectedException when it is not an acceptable image; the file is named in the message
     */
    public DecodedImage decode(Path file) throws IOException {
        String input = "file " + file;
        long size = Files.size(file);
        if (size > limits.maxBytes()) {
            throw new FrameRejectedException(Reason.TOO_MANY_BYTES, input,
                    size + " bytes exceed the limit of " + limits.maxBytes());
        }
        byte[] data = Files.readAllBytes(file);
        if (data.length == 0) {
            throw new FrameRejectedException(Reason.EMPTY, input, "empty file");
        }
        ContentType type = sniff(data).orElseThrow(() -> new FrameRejectedException(Reason.UNSUPPORTED_TYPE, input,
                "not a JPEG, PNG, GIF or BMP (leading bytes " + hex(data, 8) + ")"));
        return decode(type, data, null, null, input);
    }

    /** The compressed format {@code data} starts like, from its magic bytes; empty for anything else. */
    public static Optional<ContentType> sniff(byte[] data) {
        if (startsWith(data, 0xFF, 0xD8, 0xFF)) {
            return Optional.of(ContentType.JPEG);
        }
        if (startsWith(data, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return Optional.of(ContentType.PNG);
        }
        if (startsWith(data, 'G', 'I', 'F', '8')) {
            return Optional.of(ContentType.GIF);
        }
        if (startsWith(data, 'B', 'M')) {
            return Optional.of(ContentType.BMP);
        }
        return Optional.empty();
    }

    private DecodedImage decodeRaw(byte[] data, Integer width, Integer height, int channels, String input) {
        String kind = channels == 1 ? "RAW_GREY" : "RAW_RGB";
        if (width == null || height == null) {
            throw new FrameRejectedException(Reason.SIZE_MISMATCH, input,
                    kind + " needs width and height, got " + width + "x" + height);
        }
        if (width <= 0 || height <= 0) {
            throw new FrameRejectedException(Reason.SIZE_MISMATCH, input,
                    kind + " dimensions must be positive, got " + width + "x" + height);
        }
        long pixels = (long) width * height;
        if (pixels > limits.maxPixels()) {
            throw new FrameRejectedException(Reason.TOO_MANY_PIXELS, input,
                    width + "x" + height + " = " + pixels + " pixels exceed the limit of " + limits.maxPixels());
        }
        long expected = pixels * channels;
        if (data.length != expected) {
            throw new FrameRejectedException(Reason.SIZE_MISMATCH, input, kind + " " + width + "x" + height
                    + " needs " + expected + " bytes, got " + data.length);
        }
        return new DecodedImage(width, height, channels, data.clone());
    }

    private DecodedImage decodeCompressed(String format, byte[] data, Integer width, Integer height, String input) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new FrameRejectedException(Reason.UNSUPPORTED_TYPE, input, "no ImageIO reader for " + format);
        }
        ImageReader reader = readers.next();
        // MemoryCacheImageInputStream: never a temp file, whatever ImageIO.getUseCache() says.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            if (!reader.getOriginatingProvider().canDecodeInput(in)) {
                throw new FrameRejectedException(Reason.UNDECODABLE, input,
                        "not a " + format + " (leading bytes " + hex(data, 8) + ")");
            }
            reader.setInput(in, true, true);
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            // Header only: nothing the size of the image is allocated yet.
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            long pixels = (long) w * h;
            if (w <= 0 || h <= 0) {
                throw new FrameRejectedException(Reason.UNDECODABLE, input, format + " header declares " + w + "x" + h);
            }
            if (pixels > limits.maxPixels()) {
                throw new FrameRejectedException(Reason.TOO_MANY_PIXELS, input, format + " header declares " + w + "x" + h
                        + " = " + pixels + " pixels, over the limit of " + limits.maxPixels());
            }
            if ((width != null && width != w) || (height != null && height != h)) {
                throw new FrameRejectedException(Reason.SIZE_MISMATCH, input, "frame declares " + width + "x" + height
                        + " but the " + format + " header says " + w + "x" + h);
            }
            BufferedImage image = reader.read(0);
            for (String warning : warnings) {
                if (isCorruption(warning)) {
                    throw new FrameRejectedException(Reason.UNDECODABLE, input, format + " is corrupt: " + warning);
                }
                LOG.debug("{}: {} decoder warning ignored: {}", input, format, warning);
            }
            return toDecoded(image, input);
        } catch (FrameRejectedException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO signals corrupt streams with IIOException, but also with IndexOutOfBounds,
            // IllegalArgument, NegativeArraySize... from deep inside the codecs.
            throw new FrameRejectedException(Reason.UNDECODABLE, input, "cannot decode " + format + ": " + e, e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * Warnings that mean pixels are missing (libjpeg fills them with grey and carries on). Others, like
     * "extraneous bytes before marker" that some cameras produce, leave the image whole and are only logged.
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
            throw new FrameRejectedException(Reason.UNSUPPORTED_TYPE, input,
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

    private static String formatName(ContentType type) {
        return switch (type) {
            case JPEG -> "jpeg";
            case PNG -> "png";
            case GIF -> "gif";
            case BMP -> "bmp";
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    private static boolean startsWith(byte[] data, int... magic) {
        if (data.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((data[i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static String hex(byte[] data, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(n, data.length); i++) {
            sb.append(String.format("%02x", data[i] & 0xFF));
        }
        return sb.toString();
    }
}
