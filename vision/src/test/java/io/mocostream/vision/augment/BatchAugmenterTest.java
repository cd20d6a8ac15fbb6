package io.mocostream.vision.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mocostream.frames.DecodedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchAugmenterTest {

  private static List<BatchAugmenter.Item> items(int n, int firstOffset) {
    List<BatchAugmenter.Item> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      DecodedImage img = i % 3 == 0 ? AugmenterTest.grey(28, 28) : AugmenterTest.rgb(40 + i, 30);
      items.add(new BatchAugmenter.Item(img, i % 2, firstOffset + i));
    }
    return items;
  }

  @Test
  void resultsDoNotDependOnThreadCountOrBatchPosition() throws Exception {
    Augmenter aug = new Augmenter(AugmentConfig.mocoV2(32, 3));
    int len = aug.viewLength();
    int n = 37;
    List<BatchAugmenter.Item> batch = items(n, 500);
    float[][] q = new float[3][n * len];
    float[][] k = new float[3][n * len];
    int[] threads = {1, 2, 5};
    for (int t = 0; t < threads.length; t++) {
      try (BatchAugmenter b = new BatchAugmenter(aug, threads[t])) {
        if (t == 2) {
          b.twoViewsAsync(batch, 99, q[t], k[t]).get();
        } else {
          b.twoViews(batch, 99, q[t], k[t]);
        }
      }
    }
    assertArrayEquals(q[0], q[1]);
    assertArrayEquals(q[0], q[2]);
    assertArrayEquals(k[0], k[1]);
    assertArrayEquals(k[0], k[2]);

    // Record 10 alone, computed directly, equals its slot in the batch.
    float[] q10 = new float[len];
    float[] k10 = new float[len];
    BatchAugmenter.Item it = batch.get(10);
    aug.twoViews(it.image(), 99, it.partition(), it.offset(), q10, 0, k10, 0);
    assertArrayEquals(q10, Arrays.copyOfRange(q[0], 10 * len, 11 * len));
    assertArrayEquals(k10, Arrays.copyOfRange(k[0], 10 * len, 11 * len));

    // The same records in another batch, at other positions: the same views.
    List<BatchAugmenter.Item> shifted = new ArrayList<>(batch.subList(5, 20));
    float[] sq = new float[shifted.size() * len];
    float[] sk = new float[shifted.size() * len];
    try (BatchAugmenter b = new BatchAugmenter(aug, 2)) {
      b.twoViews(shifted, 99, sq, sk);
      assertThrows(IllegalArgumentException.class, () -> b.twoViews(batch, 99, sq, sk));
    }
    assertArrayEquals(Arrays.copyOfRange(q[0], 5 * len, 20 * len), sq);
    assertArrayEquals(Arrays.copyOfRange(k[0], 5 * len, 20 * len), sk);
  }

  @Test
  void centreBatchMatchesSingleImages() {
    Augmenter aug = new Augmenter(AugmentConfig.mocoV2(16, 1));
    List<DecodedImage> imgs = items(9, 0).stream().map(BatchAugmenter.Item::image).toList();
    float[] out = new float[9 * aug.viewLength()];
    try (BatchAugmenter b = new BatchAugmenter(aug, 4)) {
      b.center(imgs, out);
    }
    float[] one = new float[aug.viewLength()];
    aug.center(imgs.get(7), one, 0);
    assertArrayEquals(one, Arrays.copyOfRange(out, 7 * 256, 8 * 256));
  }
}
