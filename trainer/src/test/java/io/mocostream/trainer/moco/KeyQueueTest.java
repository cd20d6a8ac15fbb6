package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The queue against a plain Java model of a ring buffer written key by key: after every enqueue the
 * keys, metadata, pointer and size must match.
 */
class KeyQueueTest {

  private static final int D = 3;
  private static final int K = 7;

  @Test
  void anyBatchSizeWrapsLikeWritingKeyByKey() {
    try (NDManager manager = NDManager.newBaseManager()) {
      KeyQueue queue = new KeyQueue(manager, D, K);
      Model model = new Model();
      assertEquals(0, queue.size());
      assertNull(queue.negatives(manager));
      int next = 0;
      long step = 0;
      // partial batches, a batch that crosses the end (split write), a batch > K, exact K, several
      // wraps
      for (int n : new int[] {3, 2, 4, 1, 7, 10, 5, 6, 16, 2}) {
        enqueue(manager, queue, model, next, n, step++);
        next += n;
        assertMatches(model, queue);
      }
    }
  }

  @Test
  void negativesAreTheFilledColumnsOnly() {
    try (NDManager manager = NDManager.newBaseManager()) {
      KeyQueue queue = new KeyQueue(manager, D, K);
      enqueue(manager, queue, new Model(), 0, 3, 0);
      try (NDManager scope = manager.newSubManager()) {
        NDArray negatives = queue.negatives(scope);
        assertEquals(new Shape(D, 3), negatives.getShape());
        assertArrayEquals(
            new float[] {0, 1, 2, 100, 101, 102, 200, 201, 202}, negatives.toFloatArray());
      }
    }
  }

  @Test
  void saveAndLoadRestoreContentsMetadataAndPointer() throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      for (int[] batches : new int[][] {{3}, {5, 4}, {20, 3}}) { // partly filled, wrapped, > K
        KeyQueue queue = new KeyQueue(manager, D, K);
        Model model = new Model();
        int next = 0;
        for (int n : batches) {
          enqueue(manager, queue, model, next, n, next);
          next += n;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
          queue.save(out);
        }
        KeyQueue restored = new KeyQueue(manager, D, K);
        restored.load(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertMatches(model, restored);
        assertEquals(queue.entries(), restored.entries());
        // and it carries on identically
        enqueue(manager, restored, model, next, 4, 99);
        assertMatches(model, restored);
        KeyQueue wrongSize = new KeyQueue(manager, D, K + 1);
        IOException e =
            assertThrows(
                IOException.class,
                () ->
                    wrongSize.load(
                        new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))));
        assertEquals(true, e.getMessage().contains("3×7"), e.getMessage());
      }
    }
  }

  @Test
  void sameSourceMaskMarksOnlyTheSourceWithinTheWindow() {
    try (NDManager manager = NDManager.newBaseManager()) {
      KeyQueue queue = new KeyQueue(manager, D, K);
      List<QueueEntry> meta =
          List.of(
              new QueueEntry("cam1", 0, 10, -1, 1_000),
              new QueueEntry("cam2", 0, 11, -1, 1_000),
              new QueueEntry("cam1", 0, 12, -1, 5_000),
              new QueueEntry(QueueEntry.UNKNOWN_SOURCE, -1, 13, -1, 1_000));
      try (NDManager scope = manager.newSubManager()) {
        queue.enqueue(scope.create(new float[4 * D], new Shape(4, D)), meta, 0);
      }
      List<QueueEntry> queries =
          List.of(
              new QueueEntry(
                  "cam1", 0, 20, -1, 1_500), // masks slot 0 (500 ms), not slot 2 (3500 ms)
              new QueueEntry("cam3", 0, 21, -1, 1_000), // unknown to the queue: nothing
              new QueueEntry(
                  QueueEntry.UNKNOWN_SOURCE, -1, 22, -1, 1_000)); // unknown never matches
      float[] mask = queue.sameSourceMask(queries, 1_000);
      float inf = Float.NEGATIVE_INFINITY;
      assertArrayEquals(new float[] {inf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, mask);
      assertNull(queue.sameSourceMask(List.of(queries.get(1), queries.get(2)), 1_000));
      float[] wide = queue.sameSourceMask(List.of(queries.get(0)), 10_000);
      assertArrayEquals(new float[] {inf, 0, inf, 0}, wide);
    }
  }

  /** Keys of item i: row (i, 100+i, 200+i) transposed into a column; metadata offset i. */
  private static void enqueue(
      NDManager manager, KeyQueue queue, Model model, int first, int n, long step) {
    float[] keys = new float[n * D];
    List<QueueEntry> meta = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int item = first + i;
      for (int d = 0; d < D; d++) {
        keys[i * D + d] = 100 * d + item;
      }
      meta.add(new QueueEntry("src" + (item % 3), item % 2, item, -1, 1000L * item));
      model.write(item, new QueueEntry("src" + (item % 3), item % 2, item, step, 1000L * item));
    }
    try (NDManager scope = manager.newSubManager()) {
      queue.enqueue(scope.create(keys, new Shape(n, D)), meta, step);
    }
  }

  private static void assertMatches(Model model, KeyQueue queue) {
    assertEquals(model.pointer, queue.pointer(), "pointer");
    assertEquals(model.filled, queue.size(), "size");
    float[] keys = queue.keysSnapshot();
    for (int slot = 0; slot < K; slot++) {
      assertEquals(model.entries[slot], queue.entry(slot), "metadata of slot " + slot);
      for (int d = 0; d < D; d++) {
        float expected = model.items[slot] < 0 ? 0 : 100 * d + model.items[slot];
        assertEquals(expected, keys[d * K + slot], "key of slot " + slot + ", dimension " + d);
      }
    }
  }

  /** The obvious ring buffer, one key at a time. */
  private static final class Model {
    final int[] items = {-1, -1, -1, -1, -1, -1, -1};
    final QueueEntry[] entries = new QueueEntry[K];
    int pointer;
    int filled;

    void write(int item, QueueEntry entry) {
      items[pointer] = item;
      entries[pointer] = entry;
      pointer = (pointer + 1) % K;
      filled = Math.min(K, filled + 1);
    }
  }
}
