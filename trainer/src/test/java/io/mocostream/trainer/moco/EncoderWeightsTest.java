package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EncoderWeightsTest {

  @Test
  void publishedWeightsGiveTheTrainersFeatures() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      for (int s = 0; s < 3; s++) {
        Tiny.step(engine, s, 4);
      }
      float[] images = Tiny.images(77, 5);
      float[] trainerFeatures = engine.features(images, 5);
      assertEquals(5 * Tiny.ARCH.featureDim(), trainerFeatures.length);
      byte[] weights = engine.saveEncoderWeights();
      try (Encoder encoder = Encoder.load(Tiny.ARCH, weights)) {
        assertArrayEquals(trainerFeatures, encoder.features(images, 5));
        assertArrayEquals(
            Arrays.copyOf(trainerFeatures, 2 * Tiny.ARCH.featureDim()),
            encoder.features(images, 2));
      }
      Tiny.step(engine, 3, 4);
      assertFalse(
          Arrays.equals(trainerFeatures, engine.features(images, 5)), "training moved the encoder");
    }
  }

  @Test
  void embeddingsAreUnitVectors() {
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      float[] z = engine.embed(Tiny.images(5, 3), 3);
      int d = Tiny.ARCH.embeddingDim();
      assertEquals(3 * d, z.length);
      for (int i = 0; i < 3; i++) {
        double norm = 0;
        for (int j = 0; j < d; j++) {
          norm += z[i * d + j] * z[i * d + j];
        }
        assertEquals(1.0, norm, 1e-5);
      }
    }
  }

  @Test
  void weightsOfAnotherArchitectureAreRefused() {
    byte[] weights;
    try (MocoEngine engine = new MocoEngine(Tiny.config().build())) {
      weights = engine.saveEncoderWeights();
    }
    Architecture wider = Tiny.ARCH.withWidth(8);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Encoder.load(wider, weights));
    assertTrue(e.getMessage().contains(wider.toString()), e.getMessage());
    byte[] truncated = Arrays.copyOf(weights, weights.length / 2);
    assertThrows(IllegalArgumentException.class, () -> Encoder.load(Tiny.ARCH, truncated));
    try (Encoder encoder = Encoder.load(Tiny.ARCH, weights)) {
      IllegalArgumentException tooFew =
          assertThrows(IllegalArgumentException.class, () -> encoder.features(new float[10], 1));
      assertTrue(tooFew.getMessage().contains("10 floats"), tooFew.getMessage());
    }
  }
}
