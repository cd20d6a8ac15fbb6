package io.mocostream.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LearningRateTest {

  @Test
  void warmupThenConstant() {
    LearningRate lr = LearningRate.warmupConstant(0.4f, 4);
    assertEquals(0.1f, lr.at(0), 1e-7);
    assertEquals(0.3f, lr.at(2), 1e-7);
    assertEquals(0.4f, lr.at(3), 1e-7);
    assertEquals(0.4f, lr.at(1_000_000_000L));
    assertEquals(0.4f, LearningRate.constant(0.4f).at(0));
  }

  @Test
  void cyclicRestartsAtTheBaseRate() {
    LearningRate lr = LearningRate.warmupCyclic(1f, 2, 10, 0.1f);
    assertEquals(0.5f, lr.at(0), 1e-7);
    assertEquals(1f, lr.at(2), 1e-7); // cycle start
    assertEquals(0.55f, lr.at(7), 1e-6); // half-way: min + (max−min)/2
    assertEquals(1f, lr.at(12), 1e-7); // next cycle
    assertEquals(lr.at(5), lr.at(105));
  }

  @Test
  void cosineDecaysToZeroAtTheEnd() {
    LearningRate lr = LearningRate.cosine(0.03f, 0, 100);
    assertEquals(0.03f, lr.at(0), 1e-9);
    assertEquals(0.015f, lr.at(50), 1e-7);
    assertEquals(0f, lr.at(100), 1e-9);
    assertEquals(0f, lr.at(200), 1e-9);
  }

  @Test
  void nonsenseIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> LearningRate.constant(0f));
    assertThrows(IllegalArgumentException.class, () -> LearningRate.constant(Float.NaN));
    assertThrows(IllegalArgumentException.class, () -> LearningRate.cosine(0.1f, 10, 10));
    assertThrows(IllegalArgumentException.class, () -> LearningRate.warmupCyclic(0.1f, 0, 0, 0f));
  }
}
