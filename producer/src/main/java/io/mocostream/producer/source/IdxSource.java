package io.mocostream.producer.source;

import io.mocostream.frames.FrameLimits;
import io.mocostream.schemas.ContentType;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Images (and optionally labels) from MNIST-format IDX files, such as Fashion-MNIST in {@code
 * /usr/share/datasets/fashion-mnist/}. Gzipped files ({@code .gz}, recognised by their magic bytes,
 * not their name) are read as a stream.
 *
 * <p>Format (big-endian): two zero bytes, a type code (only {@code 0x08}, unsigned byte, is
 * supported: it is what image datasets use), the number of dimensions, then one 32-bit size per
 * dimension, then the data row-major. Images are {@code N×rows×cols} (RAW_GREY) or {@code
 * N×rows×cols×3} (RAW_RGB); labels are {@code N}.
 *
 * <p>The headers are checked when the source opens, so a bad file fails before anything is
 * published: magic, dimension count, positive sizes, pixels per image within {@link
 * FrameLimits#maxPixels()}, equal image and label counts, and, for uncompressed files, a file
 * length that matches the header exactly. A gzipped file's length is only known by reading it: if
 * it ends early, {@link #next()} throws an {@link IdxFormatException} naming how many images were
 * read (those were valid and stay published).
 */
public final class IdxSource implements FrameSource {
  private static final int TYPE_UNSIGNED_BYTE = 0x08;

  private final Path imagesPath;
  private final Path labelsPath;
  private final String sourceId;
  private final long captureTimeMs;
  private final int count;
  private final int rows;
  private final int cols;
  private final int channels;
  private final ContentType contentType;

  private DataInputStream images;
  private DataInputStream labels;
  private int index;

  /** Header of one IDX file: dimension sizes and the byte offset of the data. */
  private record Header(int[] dims, long dataOffset) {}

  public IdxSource(Path imagesPath, Path labelsPath, String sourceId, FrameLimits limits)
      throws IOException {
    this.imagesPath = imagesPath;
    this.labelsPath = labelsPath;
    this.sourceId = sourceId;
    this.captureTimeMs = Files.getLastModifiedTime(imagesPath).toMillis();

    Header ih = readHeader(imagesPath);
    int[] d = ih.dims();
    boolean rgb = d.length == 4 && d[3] == 3;
    boolean grey4 = d.length == 4 && d[3] == 1;
    if (d.length != 3 && !rgb && !grey4) {
      throw new IdxFormatException(
          imagesPath
              + ": images must have 3 dimensions (N×rows×cols) or 4 with 1 or 3 "
              + "channels last, got "
              + dimsString(d));
    }
    this.count = d[0];
    this.rows = d[1];
    this.cols = d[2];
    this.channels = rgb ? 3 : 1;
    this.contentType = rgb ? ContentType.RAW_RGB : ContentType.RAW_GREY;
    long pixels = (long) rows * cols;
    if (pixels > limits.maxPixels()) {
      throw new IdxFormatException(
          imagesPath
              + ": images of "
              + rows
              + "×"
              + cols
              + " = "
              + pixels
              + " pixels are over the limit of "
              + limits.maxPixels());
    }
    if (pixels * channels > limits.maxBytes()) {
      throw new IdxFormatException(
          imagesPath
              + ": images of "
              + pixels * channels
              + " bytes are over the limit of "
              + limits.maxBytes()
              + " bytes");
    }
    checkLength(imagesPath, ih, (long) count * pixels * channels);

    if (labelsPath != null) {
      Header lh = readHeader(labelsPath);
      if (lh.dims().length != 1) {
        throw new IdxFormatException(
            labelsPath + ": labels must have 1 dimension (N), got " + dimsString(lh.dims()));
      }
      if (lh.dims()[0] != count) {
        throw new IdxFormatException(
            labelsPath
                + " has "
                + lh.dims()[0]
                + " labels but "
                + imagesPath
                + " has "
                + count
                + " images");
      }
      checkLength(labelsPath, lh, count);
    }
    open();
  }

  public int count() {
    return count;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  @Override
  public SourceEntry next() throws IOException {
    if (images == null) {
      return null;
    }
    if (index >= count) {
      checkNoTrailingData();
      return null;
    }
    byte[] pixels = new byte[rows * cols * channels];
    Integer label = null;
    try {
      images.readFully(pixels);
      if (labels != null) {
        label = labels.readUnsignedByte();
      }
    } catch (EOFException e) {
      throw new IdxFormatException(
          (labels == null ? imagesPath.toString() : imagesPath + " or " + labelsPath)
              + " is truncated: the header declares "
              + count
              + " images, the data ends after "
              + index);
    }
    int i = index++;
    String file = imagesPath.getFileName().toString();
    return new SourceItem(
        sourceId,
        file + "#" + i,
        contentType,
        pixels,
        cols,
        rows,
        label,
        captureTimeMs,
        Map.of("file", file, "index", Integer.toString(i)));
  }

  @Override
  public void rewind() throws IOException {
    closeStreams();
    open();
  }

  @Override
  public String describe() {
    return "IDX "
        + imagesPath
        + (labelsPath == null ? "" : " with labels " + labelsPath)
        + " ("
        + count
        + " images "
        + rows
        + "×"
        + cols
        + (channels == 3 ? "×3" : "")
        + ")";
  }

  @Override
  public void close() throws IOException {
    closeStreams();
  }

  private void open() throws IOException {
    index = 0;
    images = openData(imagesPath);
    if (labelsPath != null) {
      labels = openData(labelsPath);
    }
  }

  private void closeStreams() throws IOException {
    try {
      if (images != null) {
        images.close();
      }
    } finally {
      images = null;
      if (labels != null) {
        labels.close();
        labels = null;
      }
    }
  }

  private void checkNoTrailingData() throws IOException {
    if (images.read() >= 0) {
      throw new IdxFormatException(
          imagesPath + " has data after the " + count + " images its header declares");
    }
    if (labels != null && labels.read() >= 0) {
      throw new IdxFormatException(
          labelsPath + " has data after the " + count + " labels its header declares");
    }
    closeStreams();
  }

  /** The stream positioned at the first data byte. */
  private static DataInputStream openData(Path path) throws IOException {
    DataInputStream in = new DataInputStream(new BufferedInputStream(decompressed(path), 1 << 16));
    try {
      readHeader(in, path); // checked at open; read again to reach the data
      return in;
    } catch (IOException e) {
      in.close();
      throw e;
    }
  }

  private static InputStream decompressed(Path path) throws IOException {
    InputStream raw = new BufferedInputStream(Files.newInputStream(path));
    raw.mark(2);
    int b0 = raw.read();
    int b1 = raw.read();
    raw.reset();
    return b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(raw, 1 << 16) : raw;
  }

  private static Header readHeader(Path path) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(decompressed(path)))) {
      return readHeader(in, path);
    }
  }

  private static Header readHeader(DataInputStream in, Path path) throws IOException {
    try {
      int magic = in.readInt();
      if ((magic >>> 16) != 0) {
        throw new IdxFormatException(
            path
                + ": not an IDX file (magic 0x"
                + Integer.toHexString(magic)
                + ", expected 0x0000TTDD)");
      }
      int type = (magic >>> 8) & 0xFF;
      int ndims = magic & 0xFF;
      if (type != TYPE_UNSIGNED_BYTE) {
        throw new IdxFormatException(
            path
                + ": IDX element type 0x"
                + Integer.toHexString(type)
                + " is not supported, only 0x08 (unsigned byte)");
      }
      if (ndims < 1 || ndims > 4) {
        throw new IdxFormatException(
            path + ": IDX with " + ndims + " dimensions is not supported (1 to 4)");
      }
      int[] dims = new int[ndims];
      for (int i = 0; i < ndims; i++) {
        dims[i] = in.readInt();
        if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
          throw new IdxFormatException(
              path + ": invalid dimension " + i + " = " + dims[i] + " in " + dimsString(dims));
        }
      }
      return new Header(dims, 4L + 4L * ndims);
    } catch (EOFException e) {
      throw new IdxFormatException(path + " is truncated inside its IDX header");
    }
  }

  /**
   * For uncompressed files, the length must match the header exactly; gzipped ones are checked
   * while reading.
   */
  private static void checkLength(Path path, Header h, long dataBytes) throws IOException {
    if (isGzip(path)) {
      return;
    }
    long expected = h.dataOffset() + dataBytes;
    long actual = Files.size(path);
    if (actual < expected) {
      throw new IdxFormatException(
          path
              + " is truncated: its header "
              + dimsString(h.dims())
              + " needs "
              + expected
              + " bytes, the file has "
              + actual);
    }
    if (actual > expected) {
      throw new IdxFormatException(
          path
              + " has "
              + (actual - expected)
              + " bytes after the data its header "
              + dimsString(h.dims())
              + " declares");
    }
  }

  private static boolean isGzip(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return in.read() == 0x1f && in.read() == 0x8b;
    }
  }

  private static String dimsString(int[] dims) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < dims.length; i++) {
      sb.append(i == 0 ? "" : "×").append(dims[i]);
    }
    return sb.toString();
  }
}
