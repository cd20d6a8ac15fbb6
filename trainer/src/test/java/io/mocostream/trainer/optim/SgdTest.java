package io.mocostream.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.mocostream.vision.model.GradMode;
import java.util.List;
import org.junit.jupiter.api.Test;

class SgdTest {

  /**
   * Loss Σ c·w² has gradient 2·c·w. Three steps at changing learning rates against
   * torch.optim.SGD's update written out in doubles: d = g + wd·w; buf = μ·buf + d; w −= lr·buf.
   */
  @Test
  void matchesPyTorchsFormWithAChangingRate() {
    float[] w0 = {1f, -2f, 0.5f};
    float[] c = {0.3f, 1f, -2f};
    float mu = 0.9f;
    float wd = 0.01f;
    float[] rates = {0.1f, 0.05f, 0.2f};
    double[] w = {1, -2, 0.5};
    double[] buf = new double[3];
    GradMode.disableOnThisThread();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray weight = manager.create(w0);
      weight.setRequiresGradient(true);
      NDArray coefficients = manager.create(c);
      Sgd sgd = new Sgd(manager, List.of(weight), mu, wd);
      for (float lr : rates) {
        try (NDManager scope = manager.newSubManager()) {
          try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray x = coefficients.duplicate();
            x.attach(scope);
            collector.backward(x.mul(weight).mul(weight).sum());
          }
          sgd.step(lr, scope);
        }
        for (int i = 0; i < 3; i++) {
          double d = 2 * c[i] * w[i] + wd * w[i];
          buf[i] = mu * buf[i] + d;
          w[i] -= lr * buf[i];
        }
        float[] actual = weight.toFloatArray();
        for (int i = 0; i < 3; i++) {
          assertEquals(w[i], actual[i], 1e-5, "weight " + i + " at lr " + lr);
        }
        try (NDArray g = weight.getGradient()) {
          assertArrayEquals(
              new float[3], g.toFloatArray(), "gradients are zeroed after the update");
        }
      }
      float[] momentum = sgd.buffers().get(0).toFloatArray();
      for (int i = 0; i < 3; i++) {
        assertEquals(buf[i], momentum[i], 1e-5, "momentum buffer " + i);
      }
    }
  }

  /**
   * A gradient with an infinity in it (d(x·w)/dw = x, x = [∞, 1]) is caught and cleared; w is
   * untouched.
   */
  @Test
  void detectsAndClearsNonFiniteGradients() {
    GradMode.disableOnThisThread();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray weight = manager.create(new float[] {0f, 1f});
      weight.setRequiresGradient(true);
      Sgd sgd = new Sgd(manager, List.of(weight), 0.9f, 0f);
      try (NDManager scope = manager.newSubManager()) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          NDArray x = scope.create(new float[] {Float.POSITIVE_INFINITY, 1f});
          collector.backward(x.mul(weight).sum());
        }
        assertFalse(sgd.gradientsFinite(scope));
        sgd.zeroGradients(scope);
        assertTrue(sgd.gradientsFinite(scope));
      }
      assertArrayEquals(new float[] {0f, 1f}, weight.toFloatArray());
    }
  }
}
