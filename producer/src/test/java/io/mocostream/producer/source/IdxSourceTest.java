package io.mocostream.producer.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.FrameLimits;
import io.mocostream.schemas.ContentType;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxSourceTest {
  @TempDir Path dir;

  /** IDX bytes: magic 0x0000TTDD, sizes, then data. */
  static byte[] idx(int type, int[] dims, byte[] data) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(buf);
    out.writeInt((type << 8) | dims.length);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(data);
    return buf.toByteArray();
  }

  /** n images of rows×cols whose pixel (i, k) is (i * 31 + k) mod 256, labels i mod 10. */
  static byte[] pixels(int n, int rows, int cols) {
    byte[] p = new byte[n * rows * cols];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < rows * cols; k++) {
        p[i * rows * cols + k] = (byte) (i * 31 + k);
      }
    }
    return p;
  }

  static byte[] labels(int n) {
    byte[] l = new byte[n];
    for (int i = 0; i < n; i++) {
      l[i] = (byte) (i % 10);
    }
    return l;
  }

  private Path write(String name, byte[] bytes, boolean gzip) throws IOException {
    Path p = dir.resolve(name);
    try (OutputStream out =
        gzip ? new GZIPOutputStream(Files.newOutputStream(p)) : Files.newOutputStream(p)) {
      out.write(bytes);
    }
    return p;
  }

  private void readsBack(boolean gzip) throws IOException {
    int n = 5;
    Path images = write("img.idx", idx(8, new int[] {n, 3, 4}, pixels(n, 3, 4)), gzip);
    Path labels = write("lab.idx", idx(8, new int[] {n}, labels(n)), gzip);
    try (IdxSource src = new IdxSource(images, labels, "fm", FrameLimits.DEFAULT)) {
      assertEquals(n, src.count());
      byte[] all = pixels(n, 3, 4);
      for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
          SourceItem item = assertInstanceOf(SourceItem.class, src.next());
          assertEquals("fm", item.sourceId());
          assertEquals(ContentType.RAW_GREY, item.contentType());
          assertEquals(4, item.width());
          assertEquals(3, item.height());
          assertEquals(i % 10, item.label());
          assertEquals("img.idx#" + i, item.origin());
          assertEquals(Integer.toString(i), item.attributes().get("index"));
          assertArrayEquals(Arrays.copyOfRange(all, i * 12, (i + 1) * 12), item.data());
        }
        assertNull(src.next());
        src.rewind();
      }
    }
  }

  @Test
  void readsImagesAndLabels() throws IOException {
    readsBack(false);
  }

  @Test
  void readsGzippedFiles() throws IOException {
    readsBack(true);
  }

  @Test
  void imagesWithoutLabelsHaveNoLabel() throws IOException {
    Path images = write("img.idx", idx(8, new int[] {2, 2, 2}, pixels(2, 2, 2)), false);
    try (IdxSource src = new IdxSource(images, null, "x", FrameLimits.DEFAULT)) {
      assertNull(((SourceItem) src.next()).label());
    }
  }

  @Test
  void rgbImagesHaveThreeChannelsLast() throws IOException {
    Path images = write("rgb.idx", idx(8, new int[] {2, 2, 3, 3}, pixels(2, 2, 9)), false);
    try (IdxSource src = new IdxSource(images, null, "x", FrameLimits.DEFAULT)) {
      SourceItem item = (SourceItem) src.next();
      assertEquals(ContentType.RAW_RGB, item.contentType());
      assertEquals(18, item.data().length);
    }
  }

  private IdxFormatException fails(Path images, Path labels) {
    return assertThrows(
        IdxFormatException.class, () -> new IdxSource(images, labels, "x", FrameLimits.DEFAULT));
  }

  @Test
  void rejectsBadMagicTypeAndDimensions() throws IOException {
    Path jpegish =
        write("a.idx", new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0, 0, 0, 0, 0}, false);
    assertTrue(fails(jpegish, null).getMessage().contains("not an IDX file"));
    Path floats = write("f.idx", idx(0x0D, new int[] {1, 2, 2}, new byte[16]), false);
    assertTrue(fails(floats, null).getMessage().contains("0xd"));
    Path twoDims = write("2d.idx", idx(8, new int[] {2, 2}, new byte[4]), false);
    assertTrue(fails(twoDims, null).getMessage().contains("3 dimensions"));
    Path zeroRows = write("z.idx", idx(8, new int[] {2, 0, 2}, new byte[0]), false);
    assertTrue(fails(zeroRows, null).getMessage().contains("invalid dimension 1"));
    Path headerCut =
        write("h.idx", Arrays.copyOf(idx(8, new int[] {2, 2, 2}, new byte[8]), 9), false);
    assertTrue(fails(headerCut, null).getMessage().contains("inside its IDX header"));
  }

  @Test
  void rejectsCountMismatchTruncationAndTrailingData() throws IOException {
    Path images = write("img.idx", idx(8, new int[] {5, 3, 4}, pixels(5, 3, 4)), false);
    Path fourLabels = write("lab4.idx", idx(8, new int[] {4}, labels(4)), false);
    IdxFormatException e = fails(images, fourLabels);
    assertTrue(
        e.getMessage().contains("4 labels") && e.getMessage().contains("5 images"), e.getMessage());

    byte[] full = idx(8, new int[] {5, 3, 4}, pixels(5, 3, 4));
    Path cut = write("cut.idx", Arrays.copyOf(full, full.length - 7), false);
    e = fails(cut, null);
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());

    Path longer = write("long.idx", Arrays.copyOf(full, full.length + 3), false);
    e = fails(longer, null);
    assertTrue(e.getMessage().contains("3 bytes after"), e.getMessage());
  }

  @Test
  void truncatedGzipFailsWhenTheDataEnds() throws IOException {
    byte[] full = idx(8, new int[] {5, 3, 4}, pixels(5, 3, 4));
    Path cut =
        write(
            "cut.idx.gz",
            Arrays.copyOf(full, full.length - 20),
            true); // well-formed gzip of short data
    try (IdxSource src = new IdxSource(cut, null, "x", FrameLimits.DEFAULT)) {
      assertInstanceOf(SourceItem.class, src.next());
      assertInstanceOf(SourceItem.class, src.next());
      assertInstanceOf(SourceItem.class, src.next());
      IdxFormatException e = assertThrows(IdxFormatException.class, src::next);
      assertTrue(
          e.getMessage().contains("declares 5 images, the data ends after 3"), e.getMessage());
    }
  }

  @Test
  void imagesOverThePixelLimitFailAtOpen() throws IOException {
    Path huge = write("huge.idx", idx(8, new int[] {1, 100_000, 100_000}, new byte[0]), false);
    IdxFormatException e = fails(huge, null);
    assertTrue(e.getMessage().contains("100000×100000"), e.getMessage());
  }

  @Test
  void readsFashionMnistWhenInstalled() throws IOException {
    Path images = Path.of("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    Path labels = Path.of("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
    Assumptions.assumeTrue(
        Files.isReadable(images) && Files.isReadable(labels),
        "dataset-fashion-mnist not installed");
    try (IdxSource src = new IdxSource(images, labels, "fashion", FrameLimits.DEFAULT)) {
      assertEquals(10_000, src.count());
      assertEquals(28, src.rows());
      assertEquals(28, src.cols());
      int[] perClass = new int[10];
      SourceEntry e;
      while ((e = src.next()) != null) {
        perClass[((SourceItem) e).label()]++;
      }
      assertArrayEquals(
          new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, perClass);
    }
  }
}
