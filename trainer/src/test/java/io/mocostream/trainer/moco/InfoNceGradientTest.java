package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.mocostream.vision.model.GradMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.RepeatedTest;

/**
 * InfoNCE's gradient against its closed form, with garbage collection and native allocations forced
 * between the forward and the backward pass.
 *
 * <p>Why: an op with a Java number ({@code x.div(0.2f)}) makes DJL wrap the number in a tensor over
 * a direct buffer it closes when the op returns, while autograd keeps that tensor for the backward
 * pass. Once the buffer is collected and its memory reused, the backward pass reads whatever is
 * there: a finite loss with a wrong or non-finite gradient. The churn below frees such buffers and
 * refills small native blocks with a poison value, so a dangling scalar shows up as a gradient far
 * from the closed form.
 *
 * <p>Closed form, with p_i = softmax(l_i / T) over [k_i, n_1..n_M] and c_0 = k_i, c_j = n_j:
 *
 * <pre>  ∂L/∂q_i = (Σ_j p_ij c_j − k_i) / (N·T)</pre>
 */
class InfoNceGradientTest {

  private static final int N = 6;
  private static final int D = 8;
  private static final int M = 10;
  private static final float POISON = 1e6f;

  @RepeatedTest(5)
  void gradientMatchesTheClosedFormAfterCollectionBetweenForwardAndBackward() {
    double[][] q = rows(11, N, D);
    double[][] k = rows(12, N, D);
    double[][] neg = rows(13, M, D);
    float t = 0.2f;
    GradMode.disableOnThisThread();
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray qArray = array(manager, q);
      qArray.setRequiresGradient(true);
      NDArray kArray = array(manager, k);
      NDArray negatives = array(manager, neg).transpose(); // D×M
      List<ByteBuffer> poison;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray loss = InfoNce.loss(qArray, kArray, negatives, null, t);
        poison = churn(); // between forward and backward
        collector.backward(loss);
      }
      assertTrue(poison.size() > 0);
      float[] grad = qArray.getGradient().toFloatArray(); // N×D
      double[][] expected = closedForm(q, k, neg, t);
      for (int i = 0; i < N; i++) {
        for (int d = 0; d < D; d++) {
          assertEquals(
              expected[i][d],
              grad[i * D + d],
              1e-5,
              "∂L/∂q[" + i + "][" + d + "] after a collection between forward and backward");
        }
      }
    }
  }

  /**
   * Frees unreachable direct buffers (GC runs their cleaners) and refills small native blocks with
   * {@link #POISON}; the buffers are returned so they stay alive until after the backward pass.
   */
  static List<ByteBuffer> churn() {
    List<ByteBuffer> keep = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      System.gc();
      try {
        Thread.sleep(20); // let the cleaner thread run
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (int i = 0; i < 2_000; i++) {
        ByteBuffer b = ByteBuffer.allocateDirect(4 + (i % 4) * 4).order(ByteOrder.nativeOrder());
        while (b.remaining() >= 4) {
          b.putFloat(POISON);
        }
        keep.add(b);
      }
    }
    return keep;
  }

  static double[][] closedForm(double[][] q, double[][] k, double[][] neg, float t) {
    int n = q.length;
    int dim = q[0].length;
    double[][] g = new double[n][dim];
    for (int i = 0; i < n; i++) {
      double[] logits = new double[1 + neg.length];
      logits[0] = dot(q[i], k[i]) / t;
      for (int j = 0; j < neg.length; j++) {
        logits[1 + j] = dot(q[i], neg[j]) / t;
      }
      double max = java.util.Arrays.stream(logits).max().orElseThrow();
      double z = 0;
      for (double l : logits) {
        z += Math.exp(l - max);
      }
      for (int d = 0; d < dim; d++) {
        double s = Math.exp(logits[0] - max) / z * k[i][d];
        for (int j = 0; j < neg.length; j++) {
          s += Math.exp(logits[1 + j] - max) / z * neg[j][d];
        }
        g[i][d] = (s - k[i][d]) / (n * (double) t);
      }
    }
    return g;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /**
   * Unit rows with float-representable entries (so the array and the doubles hold the same values).
   */
  private static double[][] rows(long seed, int rows, int cols) {
    SplittableRandom random = new SplittableRandom(seed);
    double[][] x = new double[rows][cols];
    for (double[] row : x) {
      double norm = 0;
      for (int c = 0; c < cols; c++) {
        row[c] = (float) (random.nextDouble() * 2 - 1);
        norm += row[c] * row[c];
      }
      for (int c = 0; c < cols; c++) {
        row[c] = (float) (row[c] / Math.sqrt(norm));
      }
    }
    return x;
  }

  private static NDArray array(NDManager manager, double[][] x) {
    float[] flat = new float[x.length * x[0].length];
    for (int r = 0; r < x.length; r++) {
      for (int c = 0; c < x[0].length; c++) {
        flat[r * x[0].length + c] = (float) x[r][c];
      }
    }
    return manager.create(flat, new Shape(x.length, x[0].length));
  }
}
