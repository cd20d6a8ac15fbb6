package io.mocostream.trainer.data;

import io.mocostream.frames.DecodedImage;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A labelled image set in the IDX format of MNIST and Fashion-MNIST: an images file (unsigned
 * bytes, 3 dimensions: count × rows × columns, magic {@code 0x00000803}) and a labels file
 * (unsigned bytes, 1 dimension, magic {@code 0x00000801}), each optionally gzipped (detected from
 * the content, not the name).
 *
 * <p>Headers are validated (magic, dimensions, equal counts) and the data must be exactly as long
 * as the header says; errors name the file and the offending value. Memory grows with the bytes
 * actually read, never with what a header merely claims. Images are grey: {@link #image(int)} gives
 * a 1-channel {@link DecodedImage}. Immutable and thread-safe.
 */
public final class IdxDataset {

  /** Magic of an unsigned-byte, 3-dimensional IDX file (images). */
  public static final int IMAGES_MAGIC = 0x00000803;

  /** Magic of an unsigned-byte, 1-dimensional IDX file (labels). */
  public static final int LABELS_MAGIC = 0x00000801;

  private final String source;
  private final int count;
  private final int rows;
  private final int cols;
  private final byte[] pixels; // count × rows × cols
  private final byte[] labels; // count

  private IdxDataset(String source, int count, int rows, int cols, byte[] pixels, byte[] labels) {
    this.source = source;
    this.count = count;
    this.rows = rows;
    this.cols = cols;
    this.pixels = pixels;
    this.labels = labels;
  }

  /** Reads an images file and a labels file (plain or gzipped). */
  public static IdxDataset read(Path images, Path labels) throws IOException {
    try (InputStream in = Files.newInputStream(images);
        InputStream lin = Files.newInputStream(labels)) {
      return read(images.toString(), in, labels.toString(), lin);
    }
  }

  /**
   * Reads IDX streams (plain or gzipped); the names appear in error messages and in {@link
   * #source()}. The streams are not closed.
   */
  public static IdxDataset read(
      String imagesName, InputStream images, String labelsName, InputStream labels)
      throws IOException {
    DataInputStream in = new DataInputStream(maybeGunzip(images));
    int magic = readHeaderInt(in, imagesName, "magic number");
    if (magic != IMAGES_MAGIC) {
      throw new IdxFormatException(
          imagesName
              + ": magic number 0x"
              + Integer.toHexString(magic)
              + " is not that of an unsigned-byte 3-dimensional IDX images file (0x00000803)"
              + (magic == LABELS_MAGIC ? "; it looks like a labels file" : ""));
    }
    int count = readHeaderInt(in, imagesName, "image count");
    int rows = readHeaderInt(in, imagesName, "row count");
    int cols = readHeaderInt(in, imagesName, "column count");
    if (count < 0 || rows <= 0 || cols <= 0) {
      throw new IdxFormatException(
          imagesName + ": invalid dimensions " + count + "x" + rows + "x" + cols);
    }
    long size = (long) count * rows * cols;
    if (size > Integer.MAX_VALUE - 8) {
      throw new IdxFormatException(
          imagesName
              + ": "
              + count
              + "x"
              + rows
              + "x"
              + cols
              + " = "
              + size
              + " bytes is more than one array can hold; split the file");
    }
    byte[] px = readExactly(in, (int) size, imagesName, count + " images of " + rows + "x" + cols);

    DataInputStream lin = new DataInputStream(maybeGunzip(labels));
    int lmagic = readHeaderInt(lin, labelsName, "magic number");
    if (lmagic != LABELS_MAGIC) {
      throw new IdxFormatException(
          labelsName
              + ": magic number 0x"
              + Integer.toHexString(lmagic)
              + " is not that of an unsigned-byte 1-dimensional IDX labels file (0x00000801)"
              + (lmagic == IMAGES_MAGIC ? "; it looks like an images file" : ""));
    }
    int lcount = readHeaderInt(lin, labelsName, "label count");
    if (lcount != count) {
      throw new IdxFormatException(
          labelsName
              + " holds "
              + lcount
              + " labels but "
              + imagesName
              + " holds "
              + count
              + " images");
    }
    byte[] lab = readExactly(lin, count, labelsName, count + " labels");
    return new IdxDataset(imagesName + " + " + labelsName, count, rows, cols, px, lab);
  }

  /** Writes this set as a pair of gzipped IDX files. */
  public void write(Path imagesFile, Path labelsFile) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(imagesFile))) {
      out.write(header(IMAGES_MAGIC, count, rows, cols));
      out.write(pixels);
    }
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(labelsFile))) {
      out.write(header(LABELS_MAGIC, count));
      out.write(labels);
    }
  }

  /** Where the data came from (file names or resource names). */
  public String source() {
    return source;
  }

  public int size() {
    return count;
  }

  /** Rows per image. */
  public int height() {
    return rows;
  }

  /** Columns per image. */
  public int width() {
    return cols;
  }

  /** Image {@code i} as a grey {@link DecodedImage} (a copy of its bytes). */
  public DecodedImage image(int i) {
    Objects.checkIndex(i, count);
    int n = rows * cols;
    return new DecodedImage(cols, rows, 1, Arrays.copyOfRange(pixels, i * n, (i + 1) * n));
  }

  /** Label of image {@code i}, 0..255. */
  public int label(int i) {
    Objects.checkIndex(i, count);
    return labels[i] & 0xFF;
  }

  /** All labels, in order (a copy). */
  public int[] labels() {
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = labels[i] & 0xFF;
    }
    return out;
  }

  /** Largest label + 1 (0 when empty). */
  public int numClasses() {
    int max = -1;
    for (byte b : labels) {
      max = Math.max(max, b & 0xFF);
    }
    return max + 1;
  }

  /** The first {@code n} images (or all if fewer). */
  public IdxDataset first(int n) {
    return slice(0, Math.min(n, count));
  }

  /** Images {@code from} (inclusive) to {@code to} (exclusive). */
  public IdxDataset slice(int from, int to) {
    Objects.checkFromToIndex(from, to, count);
    int n = rows * cols;
    return new IdxDataset(
        source + "[" + from + ".." + to + ")",
        to - from,
        rows,
        cols,
        Arrays.copyOfRange(pixels, from * n, to * n),
        Arrays.copyOfRange(labels, from, to));
  }

  /**
   * The first {@code perClass} images of each class {@code 0..numClasses-1}, in their original
   * order: a class-balanced subset. Fails if a class has fewer.
   */
  public IdxDataset balanced(int perClass) {
    int classes = numClasses();
    int[] taken = new int[classes];
    int[] pick = new int[classes * perClass];
    int m = 0;
    for (int i = 0; i < count && m < pick.length; i++) {
      int c = labels[i] & 0xFF;
      if (taken[c] < perClass) {
        taken[c]++;
        pick[m++] = i;
      }
    }
    if (m < pick.length) {
      throw new IllegalArgumentException(
          source + ": fewer than " + perClass + " images in some class " + Arrays.toString(taken));
    }
    int n = rows * cols;
    byte[] px = new byte[m * n];
    byte[] lab = new byte[m];
    for (int j = 0; j < m; j++) {
      System.arraycopy(pixels, pick[j] * n, px, j * n, n);
      lab[j] = labels[pick[j]];
    }
    return new IdxDataset(source + "[" + perClass + "/class]", m, rows, cols, px, lab);
  }

  @Override
  public String toString() {
    return "IdxDataset[" + count + " images " + rows + "x" + cols + " from " + source + "]";
  }

  private static InputStream maybeGunzip(InputStream in) throws IOException {
    BufferedInputStream b = new BufferedInputStream(in);
    b.mark(2);
    int b0 = b.read();
    int b1 = b.read();
    b.reset();
    return (b0 == 0x1F && b1 == 0x8B) ? new GZIPInputStream(b, 1 << 16) : b;
  }

  private static int readHeaderInt(DataInputStream in, String name, String what)
      throws IOException {
    try {
      return in.readInt();
    } catch (EOFException e) {
      throw new IdxFormatException(
          name + ": file ends inside the header (reading the " + what + ")");
    }
  }

  private static byte[] readExactly(InputStream in, int size, String name, String what)
      throws IOException {
    // readNBytes grows its buffer with what arrives, so a lying header cannot make us allocate its
    // claim.
    byte[] data = in.readNBytes(size);
    if (data.length < size) {
      throw new IdxFormatException(
          name
              + ": header declares "
              + what
              + " ("
              + size
              + " bytes) but only "
              + data.length
              + " bytes follow");
    }
    if (in.read() != -1) {
      throw new IdxFormatException(
          name + ": trailing bytes after the " + what + " its header declares");
    }
    return data;
  }

  private static byte[] header(int... ints) {
    ByteBuffer b = ByteBuffer.allocate(4 * ints.length);
    for (int v : ints) {
      b.putInt(v);
    }
    return b.array();
  }
}
