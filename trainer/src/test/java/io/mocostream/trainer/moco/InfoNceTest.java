package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InfoNceTest {

  private static final int N = 3;
  private static final int D = 4;
  private static final int M = 5;

  @Test
  void lossEqualsTheFormulaInDoubles() {
    double[][] q = unitRows(1, N, D);
    double[][] k = unitRows(2, N, D);
    double[][] negT = unitRows(3, M, D); // negatives as rows; the queue is their transpose D×M
    float t = 0.2f;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray loss =
          InfoNce.loss(
              array(manager, q), array(manager, k), array(manager, negT).transpose(), null, t);
      assertEquals(expected(q, k, negT, null, t), loss.getFloat(), 1e-5);
    }
  }

  @Test
  void maskedNegativesDropOutOfTheSum() {
    double[][] q = unitRows(4, N, D);
    double[][] k = unitRows(5, N, D);
    double[][] negT = unitRows(6, M, D);
    boolean[][] masked = new boolean[N][M];
    masked[0][1] = true;
    masked[0][4] = true;
    masked[2][0] = true;
    float[] mask = new float[N * M];
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < M; j++) {
        mask[i * M + j] = masked[i][j] ? Float.NEGATIVE_INFINITY : 0f;
      }
    }
    float t = 0.07f;
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray loss =
          InfoNce.loss(
              array(manager, q),
              array(manager, k),
              array(manager, negT).transpose(),
              manager.create(mask, new Shape(N, M)),
              t);
      double withMask = expected(q, k, negT, masked, t);
      assertEquals(withMask, loss.getFloat(), 1e-4);
      // and the mask matters: without it the value differs
      assertEquals(false, Math.abs(expected(q, k, negT, null, t) - withMask) < 1e-3);
    }
  }

  @Test
  void withoutNegativesTheLossIsZero() {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray loss =
          InfoNce.loss(
              array(manager, unitRows(7, N, D)),
              array(manager, unitRows(8, N, D)),
              null,
              null,
              0.2f);
      assertEquals(0f, loss.getFloat());
    }
  }

  /** −1/N Σ_i log softmax([q_i·k_i, q_i·n_j (unmasked)] / T)[0], in doubles. */
  private static double expected(
      double[][] q, double[][] k, double[][] neg, boolean[][] masked, float t) {
    double total = 0;
    for (int i = 0; i < q.length; i++) {
      double pos = dot(q[i], k[i]) / t;
      double sum = Math.exp(pos);
      for (int j = 0; j < neg.length; j++) {
        if (masked == null || !masked[i][j]) {
          sum += Math.exp(dot(q[i], neg[j]) / t);
        }
      }
      total += -(pos - Math.log(sum));
    }
    return total / q.length;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double[][] unitRows(long seed, int rows, int cols) {
    SplittableRandom random = new SplittableRandom(seed);
    double[][] x = new double[rows][cols];
    for (double[] row : x) {
      double norm = 0;
      for (int c = 0; c < cols; c++) {
        row[c] = (float) (random.nextDouble() * 2 - 1); // representable as float
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
