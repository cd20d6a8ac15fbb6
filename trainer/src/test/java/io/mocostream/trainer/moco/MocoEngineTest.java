package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MocoEngineTest {

  @Test
  void aFreshQueueHoldsNoNegatives() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      StepResult first = Tiny.step(engine, 1, 4);
      assertTrue(first.finite());
      assertEquals(0, first.negatives());
      assertEquals(
          0f, first.loss(), "only the positive logit: log softmax = 0, no fake zero negatives");
      StepResult second = Tiny.step(engine, 2, 4);
      assertEquals(4, second.negatives());
      assertTrue(second.loss() > 0);
      assertEquals(8, engine.queue().size());
      assertEquals(
          List.of(0L, 0L, 0L, 0L, 1L, 1L, 1L, 1L),
          engine.queue().entries().stream().map(QueueEntry::step).toList());
    }
  }

  @Test
  void momentumZeroCopiesTheQueryEncoder() {
    momentumUpdate(0f);
  }

  @Test
  void momentumOneLeavesTheKeyEncoderUnchanged() {
    momentumUpdate(1f);
  }

  @Test
  void momentumHalfMixesBoth() {
    momentumUpdate(0.5f);
  }

  /** After a step, f_k = m·f_k(before) + (1−m)·f_q(after the SGD update), element by element. */
  private static void momentumUpdate(float m) {
    try (MocoEngine engine = new MocoEngine(Tiny.config().keyMomentum(m).build())) {
      Tiny.step(engine, 1, 4); // make f_q differ from f_k first
      Tiny.step(engine, 2, 4);
      List<float[]> keyBefore = values(engine.keyWeights());
      List<float[]> queryBefore = values(engine.queryWeights());
      Tiny.step(engine, 3, 4);
      List<float[]> keyAfter = values(engine.keyWeights());
      List<float[]> queryAfter = values(engine.queryWeights());
      boolean queryMoved = false;
      for (int i = 0; i < keyAfter.size(); i++) {
        queryMoved |= !Arrays.equals(queryBefore.get(i), queryAfter.get(i));
        for (int j = 0; j < keyAfter.get(i).length; j++) {
          float k = keyBefore.get(i)[j];
          float q = queryAfter.get(i)[j];
          float expected = m * k + (1 - m) * q;
          float actual = keyAfter.get(i)[j];
          if (m == 0f || m == 1f) {
            assertEquals(m == 0f ? q : k, actual, "array " + i + " element " + j);
          } else {
            assertEquals(
                expected,
                actual,
                1e-6f * Math.max(1f, Math.abs(expected)),
                "array " + i + " element " + j);
          }
        }
      }
      assertTrue(queryMoved, "the query encoder was trained, so the test compares something");
    }
  }

  @Test
  void theKeyEncoderReceivesNoGradient() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      Tiny.step(engine, 1, 4);
      Tiny.step(engine, 2, 4);
      for (NDArray k : engine.keyWeights()) {
        assertFalse(k.hasGradient(), "key encoder array " + k.getName() + " has a gradient");
      }
      for (NDArray q : engine.queryWeights()) {
        assertTrue(q.hasGradient(), "query encoder array " + q.getName() + " should be trained");
      }
    }
  }

  @Test
  void shuffleThenUnshuffleRestoresTheOrderAndThePermutationIsSeeded() {
    int n = 9;
    int[] p = MocoEngine.shufflePermutation(42, 5, 0, n);
    assertArrayEquals(p, MocoEngine.shufflePermutation(42, 5, 0, n));
    assertEquals(
        Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8), new HashSet<>(Arrays.stream(p).boxed().toList()));
    assertFalse(
        Arrays.equals(p, MocoEngine.shufflePermutation(42, 6, 0, n)),
        "another step, another order");
    assertFalse(
        Arrays.equals(p, MocoEngine.shufflePermutation(43, 5, 0, n)),
        "another seed, another order");
    assertFalse(
        Arrays.equals(p, MocoEngine.shufflePermutation(42, 5, 1, n)),
        "another view, another order");
    try (NDManager manager = NDManager.newBaseManager()) {
      float[] rows = new float[n * 2];
      for (int i = 0; i < n; i++) {
        rows[2 * i] = i;
        rows[2 * i + 1] = -i;
      }
      NDArray x = manager.create(rows, new Shape(n, 2));
      NDArray order = manager.create(Arrays.stream(p).asLongStream().toArray());
      NDArray shuffled = MocoEngine.batchShuffle(x, order);
      for (int i = 0; i < n; i++) {
        assertEquals(p[i], shuffled.getFloat(i, 0), "row " + i + " of the shuffled batch");
      }
      assertArrayEquals(rows, MocoEngine.batchUnshuffle(shuffled, order).toFloatArray());
    }
  }

  @Test
  void batchNormGroupsAreNearlyEqualAndAtLeastTwoImages() {
    assertArrayEquals(new int[] {3, 3, 2, 2}, MocoEngine.groupSizes(10, 4));
    assertArrayEquals(new long[] {3, 6, 8}, MocoEngine.boundaries(MocoEngine.groupSizes(10, 4)));
    assertArrayEquals(
        new int[] {3, 2}, MocoEngine.groupSizes(5, 8)); // 5 images: 2 groups of 3 and 2
    assertArrayEquals(new int[] {3}, MocoEngine.groupSizes(3, 8));
    assertArrayEquals(new int[] {64}, MocoEngine.groupSizes(64, 1));
  }

  @Test
  void batchNormGroupsInterleaveAsTheDemosSplitBatchNorm() {
    // the demo views N×C×H×W as (N/G)×(G·C)×H×W: position i of the batch lands in group i mod G
    assertArrayEquals(
        new int[] {0, 2, 4, 1, 3, 5}, MocoEngine.groupOrder(new int[] {0, 1, 2, 3, 4, 5}, 2));
    assertArrayEquals(
        new int[] {5, 3, 1, 4, 2, 0}, MocoEngine.groupOrder(new int[] {5, 4, 3, 2, 1, 0}, 2));
    assertArrayEquals(
        new int[] {0, 2, 4, 1, 3},
        MocoEngine.groupOrder(new int[] {0, 1, 2, 3, 4}, 3),
        "5 rows: at most 2 groups of ≥ 2");
  }

  @Test
  void theQueueStartsFullOfRandomUnitKeysByDefault() {
    try (MocoEngine engine =
        new MocoEngine(Tiny.config().queueInit(MocoConfig.QueueInit.RANDOM).build())) {
      assertEquals(16, engine.queue().size());
      float[] keys = engine.queue().keysSnapshot(); // D×K
      int dim = engine.queue().dim();
      for (int j = 0; j < 16; j++) {
        double norm = 0;
        for (int d = 0; d < dim; d++) {
          norm += keys[d * 16 + j] * keys[d * 16 + j];
        }
        assertEquals(1.0, norm, 1e-5, "key " + j + " is a unit vector");
      }
      StepResult first = Tiny.step(engine, 1, 4);
      assertEquals(16, first.negatives(), "step 0 already has K negatives");
      assertTrue(first.loss() > 0);
      try (MocoEngine same =
          new MocoEngine(Tiny.config().queueInit(MocoConfig.QueueInit.RANDOM).build())) {
        assertArrayEquals(keys, same.queue().keysSnapshot(), "seeded");
      }
    }
  }

  @Test
  void linearScalingGivesTheRatePer256Images() {
    try (MocoEngine engine =
        new MocoEngine(Tiny.config().lrScaling(MocoConfig.LrScaling.LINEAR).build())) {
      assertEquals(0.05f * 4 / 256, Tiny.step(engine, 1, 4).learningRate());
      assertEquals(
          0.05f * 6 / 256,
          Tiny.step(engine, 2, 6).learningRate(),
          "a smaller batch, a smaller rate");
    }
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      assertEquals(0.05f, Tiny.step(engine, 1, 4).learningRate());
    }
  }

  @Test
  void collectingGarbageBetweenForwardAndBackwardChangesNothing() {
    // the engine's scalars are arrays of the step: a collection (and native reuse) before backward
    // is harmless
    String quiet;
    try (MocoEngine engine = new MocoEngine(Tiny.config().symmetric(true).build())) {
      for (int s = 0; s < 4; s++) {
        Tiny.step(engine, s, 6);
      }
      quiet = engine.parameterDigest();
    }
    try (MocoEngine engine = new MocoEngine(Tiny.config().symmetric(true).build())) {
      List<java.nio.ByteBuffer> kept = new ArrayList<>();
      engine.observer =
          new StepObserver() {
            @Override
            public void beforeBackward() {
              kept.addAll(InfoNceGradientTest.churn());
            }
          };
      for (int s = 0; s < 4; s++) {
        Tiny.step(engine, s, 6);
      }
      assertFalse(kept.isEmpty());
      assertEquals(
          quiet, engine.parameterDigest(), "bit-identical with a collection before each backward");
    }
  }

  @Test
  void sameSeedSameInputsGiveBitIdenticalParameters() {
    String a = digestAfterFiveSteps(7);
    assertEquals(a, digestAfterFiveSteps(7));
    assertNotEquals(a, digestAfterFiveSteps(8));
  }

  private static String digestAfterFiveSteps(long seed) {
    try (MocoEngine engine = new MocoEngine(Tiny.config().seed(seed).build())) {
      for (int s = 0; s < 5; s++) {
        Tiny.step(engine, s, 6);
      }
      return engine.parameterDigest();
    }
  }

  @Test
  void stepsDoNotLeakArrays() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().sameSourceWindowMs(1_000_000).build())) {
      for (int s = 0; s < 10; s++) {
        engine.step(Tiny.images(s, 4), Tiny.images(s + 1, 4), 4, Tiny.entries("cam", 4, 4L * s, 0));
      }
      engine.features(Tiny.images(0, 3), 3);
      engine.embed(Tiny.images(0, 3), 3);
      assertTrue(engine.parametersFinite());
      int after10 = engine.managedArrayCount();
      for (int s = 10; s < 200; s++) {
        engine.step(Tiny.images(s, 4), Tiny.images(s + 1, 4), 4, Tiny.entries("cam", 4, 4L * s, 0));
      }
      engine.features(Tiny.images(0, 3), 3);
      engine.embed(Tiny.images(0, 3), 3);
      float[] nan = Tiny.images(0, 4);
      nan[0] = Float.NaN;
      assertFalse(engine.step(nan, nan, 4, null).finite());
      assertTrue(engine.parametersFinite());
      assertEquals(after10, engine.managedArrayCount(), "arrays held by the engine's manager");
    }
  }

  @Test
  void aNonFiniteLossSkipsTheStepAndChangesNothing() throws Exception {
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      Tiny.step(engine, 1, 4);
      Tiny.step(engine, 2, 4);
      String parameters = engine.parameterDigest();
      float[] queue = engine.queue().keysSnapshot();
      List<QueueEntry> entries = engine.queue().entries();
      List<float[]> buffers = values(engine.optimizerBuffers());
      float[] images = Tiny.images(3, 4);
      images[5] = Float.NaN;

      StepResult result = engine.step(images, Tiny.images(4, 4), 4, null);

      assertFalse(result.finite());
      assertTrue(Float.isNaN(result.loss()));
      assertEquals(1, engine.skippedSteps());
      assertEquals(3, engine.stepCount());
      assertEquals(
          parameters, engine.parameterDigest(), "weights and BatchNorm statistics unchanged");
      assertArrayEquals(queue, engine.queue().keysSnapshot());
      assertEquals(entries, engine.queue().entries());
      List<float[]> buffersAfter = values(engine.optimizerBuffers());
      for (int i = 0; i < buffers.size(); i++) {
        assertArrayEquals(buffers.get(i), buffersAfter.get(i), "momentum buffer " + i);
      }
      assertTrue(Tiny.step(engine, 5, 4).finite(), "training goes on");
    }
  }

  @Test
  void aRestoredEngineTakesTheSameNextStep() throws Exception {
    try (MocoEngine original = new MocoEngine(Tiny.config().build())) {
      for (int s = 0; s < 7; s++) { // 28 keys through a K = 16 queue: wrapped
        Tiny.step(original, s, 4);
      }
      ByteArrayOutputStream state = new ByteArrayOutputStream();
      original.saveState(state);
      try (MocoEngine restored = new MocoEngine(Tiny.config().seed(999).build())) {
        assertNotEquals(original.parameterDigest(), restored.parameterDigest());
        restored.loadState(new ByteArrayInputStream(state.toByteArray()));
        assertEquals(original.parameterDigest(), restored.parameterDigest());
        assertEquals(original.stepCount(), restored.stepCount());
        assertEquals(original.queue().pointer(), restored.queue().pointer());

        StepResult a = Tiny.step(original, 7, 4);
        StepResult b = Tiny.step(restored, 7, 4);
        assertEquals(Float.floatToIntBits(a.loss()), Float.floatToIntBits(b.loss()));
        assertEquals(original.parameterDigest(), restored.parameterDigest());
        assertArrayEquals(original.queue().keysSnapshot(), restored.queue().keysSnapshot());
        assertEquals(original.queue().entries(), restored.queue().entries());
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        restored.saveState(again);
        ByteArrayOutputStream reference = new ByteArrayOutputStream();
        original.saveState(reference);
        assertArrayEquals(
            reference.toByteArray(), again.toByteArray(), "whole state, byte for byte");
      }
      try (MocoEngine other = new MocoEngine(Tiny.config().queueSize(32).build())) {
        Exception e =
            assertThrows(
                java.io.IOException.class,
                () -> other.loadState(new ByteArrayInputStream(state.toByteArray())));
        assertTrue(e.getMessage().contains("K=16"), e.getMessage());
      }
    }
  }

  @Test
  void sameSourceKeysCloseInTimeAreMaskedOut() {
    // the queue holds 4 keys of "cam1" at t = 0..3 ms
    for (long window : new long[] {0, 1_000}) {
      for (String source : new String[] {"cam1", "cam2"}) {
        try (MocoEngine engine = new MocoEngine(Tiny.config().sameSourceWindowMs(window).build())) {
          engine.step(Tiny.images(1, 4), Tiny.images(2, 4), 4, Tiny.entries("cam1", 4, 0, 0));
          StepResult r =
              engine.step(Tiny.images(3, 4), Tiny.images(4, 4), 4, Tiny.entries(source, 4, 4, 100));
          assertEquals(4, r.negatives());
          if (window > 0 && source.equals("cam1")) {
            assertEquals(0f, r.loss(), "every negative masked: only the positive is left");
          } else {
            assertTrue(r.loss() > 0.1f, "negatives count: loss " + r.loss());
          }
        }
      }
    }
    try (MocoEngine engine = new MocoEngine(Tiny.config().sameSourceWindowMs(50).build())) {
      engine.step(Tiny.images(1, 4), Tiny.images(2, 4), 4, Tiny.entries("cam1", 4, 0, 0));
      StepResult r =
          engine.step(Tiny.images(3, 4), Tiny.images(4, 4), 4, Tiny.entries("cam1", 4, 4, 100));
      assertTrue(r.loss() > 0.1f, "keys 100 ms away are outside a 50 ms window");
    }
  }

  @Test
  void symmetricLossUsesBothViewsAndEnqueuesBothKeyBatches() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().symmetric(true).build())) {
      StepResult first = Tiny.step(engine, 1, 4);
      assertEquals(0f, first.loss());
      assertEquals(8, engine.queue().size());
      List<Long> offsets = new ArrayList<>();
      engine.queue().entries().forEach(e -> offsets.add(e.offset()));
      assertEquals(List.of(4L, 5L, 6L, 7L, 4L, 5L, 6L, 7L), offsets);
      StepResult second = Tiny.step(engine, 2, 4);
      assertTrue(second.finite() && second.loss() > 0);
      assertEquals(16, engine.queue().size());
    }
  }

  @Test
  void badBatchesAreRefusedWithTheReason() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      float[] four = Tiny.images(1, 4);
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> engine.step(four, four, 1, null))
              .getMessage()
              .contains("at least 2"));
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> engine.step(four, four, 5, null))
              .getMessage()
              .contains("need " + 5 * Tiny.ARCH.imageFloats()));
      assertTrue(
          assertThrows(
                  IllegalArgumentException.class,
                  () -> engine.step(four, four, 4, Tiny.entries("cam", 3, 0, 0)))
              .getMessage()
              .contains("3 queue"));
      assertEquals(0, engine.stepCount(), "refused batches are not steps");
    }
  }

  private static List<float[]> values(List<NDArray> arrays) {
    List<float[]> list = new ArrayList<>();
    for (NDArray a : arrays) {
      list.add(a.toFloatArray());
    }
    return list;
  }
}
