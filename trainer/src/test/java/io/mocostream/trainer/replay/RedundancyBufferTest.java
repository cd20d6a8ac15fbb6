package io.mocostream.trainer.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RedundancyBufferTest {
  private static final int D = 8;

  private static float[] unit(SplittableRandom r) {
    float[] v = new float[D];
    double n = 0;
    for (int i = 0; i < D; i++) {
      v[i] = (float) r.nextGaussian();
      n += v[i] * v[i];
    }
    for (int i = 0; i < D; i++) {
      v[i] /= (float) Math.sqrt(n);
    }
    return v;
  }

  /** {@code base} plus a little noise, normalised: a near-duplicate frame. */
  private static float[] near(float[] base, SplittableRandom r, double noise) {
    float[] v = new float[D];
    double n = 0;
    for (int i = 0; i < D; i++) {
      v[i] = (float) (base[i] + noise * r.nextGaussian());
      n += v[i] * v[i];
    }
    for (int i = 0; i < D; i++) {
      v[i] /= (float) Math.sqrt(n);
    }
    return v;
  }

  private static float[] rows(List<float[]> vs) {
    float[] out = new float[vs.size() * D];
    for (int i = 0; i < vs.size(); i++) {
      System.arraycopy(vs.get(i), 0, out, i * D, D);
    }
    return out;
  }

  @Test
  void evictsNearDuplicatesAndKeepsOneOfEachScene() {
    SplittableRandom r = new SplittableRandom(1);
    RedundancyBuffer<String> buffer = new RedundancyBuffer<>(6, D);
    // Six scenes, each seen as a burst of five near-identical frames: 30 frames into a buffer of 6.
    List<float[]> scenes = new ArrayList<>();
    for (int s = 0; s < 6; s++) {
      scenes.add(unit(r));
    }
    List<String> names = new ArrayList<>();
    List<float[]> features = new ArrayList<>();
    for (int s = 0; s < 6; s++) {
      for (int f = 0; f < 5; f++) {
        names.add("scene" + s + "/frame" + f);
        features.add(near(scenes.get(s), r, 0.02));
      }
    }
    List<String> evicted = buffer.insert(names, rows(features));
    assertEquals(24, evicted.size());
    assertEquals(6, buffer.size());
    assertEquals(24, buffer.evicted());
    var kept = new HashSet<String>();
    for (var slot : buffer.slots()) {
      kept.add(slot.value().substring(0, slot.value().indexOf('/')));
    }
    assertEquals(
        6,
        kept.size(),
        "one frame of every scene survives: "
            + buffer.slots().stream().map(s -> s.value()).toList());
  }

  @Test
  void theMostRedundantLeavesNotTheNewest() {
    SplittableRandom r = new SplittableRandom(2);
    RedundancyBuffer<String> buffer = new RedundancyBuffer<>(3, D);
    float[] a = unit(r);
    float[] b = unit(r);
    float[] c = unit(r);
    buffer.insert(List.of("a", "b", "c"), rows(List.of(a, b, c)));
    // A near copy of b arrives: b or its copy must go, never a or c.
    List<String> gone = buffer.insert(List.of("b'"), rows(List.of(near(b, r, 0.01))));
    assertEquals(1, gone.size());
    assertTrue(gone.get(0).startsWith("b"), "evicted " + gone);
    // Of the two equally redundant, the older one (b) leaves.
    assertEquals("b", gone.get(0));
  }

  @Test
  void drawsAreSeededByStepDistinctAndCounted() {
    SplittableRandom r = new SplittableRandom(3);
    RedundancyBuffer<Integer> buffer = new RedundancyBuffer<>(50, D);
    List<Integer> ids = new ArrayList<>();
    List<float[]> fs = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ids.add(i);
      fs.add(unit(r));
    }
    buffer.insert(ids, rows(fs));
    RedundancyBuffer<Integer> twin = new RedundancyBuffer<>(50, D);
    twin.restore(buffer.slots(), buffer.nextSeq());
    List<Integer> d1 = buffer.draw(16, 7, 3);
    assertEquals(16, new HashSet<>(d1).size());
    assertEquals(d1, twin.draw(16, 7, 3));
    assertNotEquals(d1, buffer.draw(16, 7, 4));
    assertEquals(50, buffer.draw(64, 7, 5).size()); // no more than it holds
    int draws = buffer.slots().stream().mapToInt(RedundancyBuffer.Slot::draws).sum();
    assertEquals(16 + 16 + 50, draws);
  }

  @Test
  void aRestoredBufferEvictsAndDrawsExactlyAsTheOriginal() {
    SplittableRandom r = new SplittableRandom(4);
    RedundancyBuffer<Integer> original = new RedundancyBuffer<>(20, D);
    int next = 0;
    for (int step = 1; step <= 5; step++) {
      List<Integer> ids = new ArrayList<>();
      List<float[]> fs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        ids.add(next++);
        fs.add(unit(r));
      }
      original.insert(ids, rows(fs));
      original.draw(8, 11, step);
    }
    RedundancyBuffer<Integer> restored = new RedundancyBuffer<>(20, D);
    restored.restore(original.slots(), original.nextSeq());
    for (int step = 6; step <= 12; step++) {
      List<Integer> ids = new ArrayList<>();
      List<float[]> fs = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        ids.add(next++);
        fs.add(unit(r));
      }
      assertEquals(original.insert(ids, rows(fs)), restored.insert(ids, rows(fs)));
      assertEquals(original.draw(8, 11, step), restored.draw(8, 11, step));
    }
    assertEquals(
        original.slots().stream().map(RedundancyBuffer.Slot::value).toList(),
        restored.slots().stream().map(RedundancyBuffer.Slot::value).toList());
  }

  @Test
  void badShapesAreRefusedNamingTheProblem() {
    assertThrows(IllegalArgumentException.class, () -> new RedundancyBuffer<String>(1, D));
    RedundancyBuffer<String> buffer = new RedundancyBuffer<>(4, D);
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> buffer.insert(List.of("a"), new float[D + 1]));
    assertTrue(e.getMessage().contains("1×8"), e.getMessage());
  }
}
