package io.mocostream.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.DecodedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetTest {

  private static byte[] idx(int magic, int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length).putInt(magic);
    for (int d : dims) {
      b.putInt(d);
    }
    return b.put(data).array();
  }

  private static byte[] images(int n, int rows, int cols) {
    byte[] px = new byte[n * rows * cols];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 7);
    }
    return idx(IdxDataset.IMAGES_MAGIC, new int[] {n, rows, cols}, px);
  }

  private static byte[] labels(int... values) {
    byte[] l = new byte[values.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = (byte) values[i];
    }
    return idx(IdxDataset.LABELS_MAGIC, new int[] {values.length}, l);
  }

  private static IdxDataset read(byte[] images, byte[] labels) throws IOException {
    return IdxDataset.read(
        "imgs", new ByteArrayInputStream(images), "labs", new ByteArrayInputStream(labels));
  }

  private static String failure(byte[] images, byte[] labels) {
    return assertThrows(IdxFormatException.class, () -> read(images, labels)).getMessage();
  }

  @Test
  void readsPlainIdxAndRoundTripsThroughGzip(@TempDir Path dir) throws IOException {
    IdxDataset d = read(images(3, 2, 4), labels(5, 0, 9));
    assertEquals(3, d.size());
    assertEquals(2, d.height());
    assertEquals(4, d.width());
    assertEquals(10, d.numClasses());
    assertArrayEquals(new int[] {5, 0, 9}, d.labels());
    DecodedImage second = d.image(1);
    assertEquals(1, second.channels());
    assertEquals((byte) (8 * 7), second.pixels()[0]);
    assertEquals((byte) (15 * 7), second.pixels()[7]);

    d.write(dir.resolve("i.gz"), dir.resolve("l.gz"));
    byte[] gz = Files.readAllBytes(dir.resolve("i.gz"));
    assertEquals(0x1F, gz[0] & 0xFF);
    IdxDataset back = IdxDataset.read(dir.resolve("i.gz"), dir.resolve("l.gz"));
    assertArrayEquals(d.labels(), back.labels());
    for (int i = 0; i < 3; i++) {
      assertEquals(d.image(i), back.image(i));
    }
    assertEquals(d.image(2), d.slice(1, 3).image(1));
  }

  @Test
  void badHeadersAreNamedAndExplained() {
    assertTrue(failure(labels(1), labels(1)).contains("imgs: magic number 0x801"));
    assertTrue(failure(labels(1), labels(1)).contains("looks like a labels file"));
    assertTrue(failure(images(1, 2, 2), images(1, 2, 2)).contains("labs: magic number 0x803"));
    String counts = failure(images(3, 2, 2), labels(1, 2));
    assertTrue(counts.contains("2 labels") && counts.contains("3 images"), counts);
    byte[] truncated = images(3, 2, 2);
    String t = failure(java.util.Arrays.copyOf(truncated, truncated.length - 1), labels(1, 2, 3));
    assertTrue(t.contains("11 bytes follow"), t);
    byte[] trailing = java.util.Arrays.copyOf(truncated, truncated.length + 1);
    assertTrue(failure(trailing, labels(1, 2, 3)).contains("trailing bytes"));
    assertTrue(failure(new byte[] {0, 0, 8}, labels(1)).contains("ends inside the header"));
    assertTrue(
        failure(idx(IdxDataset.IMAGES_MAGIC, new int[] {1, 0, 5}, new byte[0]), labels(1))
            .contains("invalid dimensions"));
  }

  @Test
  void aLyingHeaderDoesNotMakeItAllocateItsClaim() {
    // Claims 1,000,000 images of 28×28 (784 MB) but carries 10 bytes: refused after reading those
    // 10.
    String m =
        failure(
            idx(IdxDataset.IMAGES_MAGIC, new int[] {1_000_000, 28, 28}, new byte[10]), labels(1));
    assertTrue(m.contains("784000000 bytes") && m.contains("only 10 bytes follow"), m);
    String huge =
        failure(
            idx(IdxDataset.IMAGES_MAGIC, new int[] {100_000_000, 28, 28}, new byte[0]), labels(1));
    assertTrue(huge.contains("more than one array"), huge);
  }

  @Test
  void shippedMiniFashionMnistIsBalanced() throws IOException {
    Datasets.Splits mini = Datasets.fashionMnistMini();
    assertTrue(mini.mini());
    assertEquals(2000, mini.train().size());
    assertEquals(500, mini.test().size());
    assertEquals(28, mini.train().width());
    assertEquals(10, mini.train().numClasses());
    int[] perClass = new int[10];
    for (int l : mini.train().labels()) {
      perClass[l]++;
    }
    assertArrayEquals(new int[] {200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, perClass);
    // Real images, not blanks: Fashion-MNIST's mean pixel is about 0.286 × 255.
    long sum = 0;
    for (int i = 0; i < 100; i++) {
      for (byte b : mini.train().image(i).pixels()) {
        sum += b & 0xFF;
      }
    }
    double mean = sum / (100.0 * 784 * 255);
    assertTrue(mean > 0.2 && mean < 0.4, "mean pixel " + mean);
  }

  @Test
  void locatorPrefersTheFullSetWhenInstalled(@TempDir Path empty) throws IOException {
    Datasets.Splits found = Datasets.fashionMnist();
    assertEquals(
        !Datasets.hasFashionMnist(Datasets.DEBIAN_FASHION_MNIST_DIR), found.mini(), found.source());
    if (!found.mini()) {
      assertEquals(60_000, found.train().size());
      assertEquals(10_000, found.test().size());
    }
    assertFalse(Datasets.hasFashionMnist(empty));
    IOException e = assertThrows(IOException.class, () -> Datasets.fashionMnist(empty));
    assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
  }
}
