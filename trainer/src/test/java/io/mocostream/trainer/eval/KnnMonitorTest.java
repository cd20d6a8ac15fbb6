package io.mocostream.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KnnMonitorTest {

  @Test
  void weightsDecideAgainstTheMajorityAsComputedByHand() {
    // Query (1, 0). Neighbours by cosine: A (sim 1, class 0), B and C (sim 0.6, class 1), D (sim 0,
    // class 0).
    // Vectors are scaled to check that the monitor normalises them.
    float[] bank = {
      5, 0, /* A */ 0.6f * 3, 0.8f * 3, /* B */ 0.6f * 2, -0.8f * 2, /* C */ 0, 7 /* D */
    };
    int[] labels = {0, 1, 1, 0};
    float[] query = {2, 0};
    // τ = 0.1: class 0 gets e^10 ≈ 22026, class 1 gets 2·e^6 ≈ 807 → 0, although two of three
    // neighbours say 1.
    assertArrayEquals(
        new int[] {0}, new KnnMonitor(3, 0.1f, null).predict(bank, labels, query, 2, 2));
    // τ = 10: class 0 gets e^0.1 ≈ 1.105, class 1 gets 2·e^0.06 ≈ 2.124 → 1.
    assertArrayEquals(
        new int[] {1}, new KnnMonitor(3, 10f, null).predict(bank, labels, query, 2, 2));
    // k = 1: the nearest alone.
    assertArrayEquals(
        new int[] {0}, new KnnMonitor(1, 10f, null).predict(bank, labels, query, 2, 2));
    // k larger than the bank: all four vote; τ = 10: class 0 e^0.1 + e^0 ≈ 2.105 < 2.124 → still 1.
    assertArrayEquals(
        new int[] {1}, new KnnMonitor(200, 10f, null).predict(bank, labels, query, 2, 2));
  }

  @Test
  void twoClustersAreSeparated() {
    SplittableRandom r = new SplittableRandom(1);
    int n = 400;
    int dim = 8;
    float[] bank = new float[n * dim];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (int d = 0; d < dim; d++) {
        float centre = (d < 4) == (labels[i] == 0) ? 1f : 0f;
        bank[i * dim + d] = centre + 0.2f * (float) r.nextGaussian();
      }
    }
    float[] queries = new float[2 * dim];
    int[] ql = {0, 1};
    for (int d = 0; d < dim; d++) {
      queries[d] = d < 4 ? 1 : 0;
      queries[dim + d] = d < 4 ? 0 : 1;
    }
    assertEquals(1.0, new KnnMonitor().top1(bank, labels, queries, ql, dim, 2));
  }

  @Test
  void agreesWithAPlainJavaReferenceOnRandomData() {
    SplittableRandom r = new SplittableRandom(42);
    int n = 1500;
    int q = 400;
    int dim = 24;
    int classes = 7;
    float[][] centres = new float[classes][dim];
    for (float[] c : centres) {
      for (int d = 0; d < dim; d++) {
        c[d] = (float) r.nextGaussian();
      }
    }
    float[] bank = new float[n * dim];
    int[] labels = new int[n];
    float[] queries = new float[q * dim];
    int[] qLabels = new int[q];
    fill(r, centres, bank, labels);
    fill(r, centres, queries, qLabels);

    for (int k : new int[] {KnnMonitor.DEFAULT_K, 13}) {
      ReferenceKnn ref =
          new ReferenceKnn(bank, labels, dim, classes, k, KnnMonitor.DEFAULT_TEMPERATURE);
      // A small chunk bound forces many chunks (1500-wide rows: 10 queries per chunk).
      int[] pred =
          new KnnMonitor(k, KnnMonitor.DEFAULT_TEMPERATURE, null, 15_000)
              .predict(bank, labels, queries, dim, classes);
      int[] whole =
          new KnnMonitor(k, KnnMonitor.DEFAULT_TEMPERATURE, null)
              .predict(bank, labels, queries, dim, classes);
      assertArrayEquals(whole, pred, "chunking changes nothing");
      int compared = 0;
      for (int i = 0; i < q; i++) {
        double[] scores = ref.scores(Arrays.copyOfRange(queries, i * dim, (i + 1) * dim));
        double[] sorted = scores.clone();
        Arrays.sort(sorted);
        // Float summation order differs from PyTorch's: skip near-ties of the two best classes.
        if (sorted[classes - 1] - sorted[classes - 2] < 1e-4 * sorted[classes - 1]) {
          continue;
        }
        compared++;
        assertEquals(argMax(scores), pred[i], "query " + i + " with k=" + k);
      }
      assertTrue(compared > 0.95 * q, "compared only " + compared);
      double acc = KnnMonitor.accuracy(pred, qLabels);
      assertTrue(
          acc > 0.3 && acc < 1.0,
          "accuracy " + acc + " should be informative, neither chance nor perfect");
    }
  }

  @Test
  void refusesInconsistentInput() {
    KnnMonitor m = new KnnMonitor();
    assertThrows(
        IllegalArgumentException.class,
        () -> m.predict(new float[5], new int[] {0, 1}, new float[2], 2, 2));
    assertThrows(
        IllegalArgumentException.class,
        () -> m.predict(new float[4], new int[] {0, 2}, new float[2], 2, 2));
    assertThrows(
        IllegalArgumentException.class,
        () -> m.predict(new float[4], new int[] {0, 1}, new float[3], 2, 2));
    assertThrows(IllegalArgumentException.class, () -> new KnnMonitor(0, 0.1f, null));
    assertThrows(IllegalArgumentException.class, () -> new KnnMonitor(5, 0f, null));
  }

  private static void fill(SplittableRandom r, float[][] centres, float[] x, int[] labels) {
    int dim = centres[0].length;
    for (int i = 0; i < labels.length; i++) {
      labels[i] = r.nextInt(centres.length);
      for (int d = 0; d < dim; d++) {
        x[i * dim + d] = centres[labels[i]][d] + 1.6f * (float) r.nextGaussian();
      }
    }
  }

  private static int argMax(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  /** The demo's knn_predict, written out in plain Java with doubles. */
  private static final class ReferenceKnn {
    private final double[][] bank;
    private final int[] labels;
    private final int classes;
    private final int k;
    private final double t;

    ReferenceKnn(float[] bank, int[] labels, int dim, int classes, int k, double t) {
      this.bank = new double[labels.length][];
      for (int i = 0; i < labels.length; i++) {
        this.bank[i] = unit(Arrays.copyOfRange(bank, i * dim, (i + 1) * dim));
      }
      this.labels = labels;
      this.classes = classes;
      this.k = k;
      this.t = t;
    }

    double[] scores(float[] query) {
      double[] q = unit(query);
      double[] sim = new double[bank.length];
      for (int i = 0; i < bank.length; i++) {
        for (int d = 0; d < q.length; d++) {
          sim[i] += q[d] * bank[i][d];
        }
      }
      Integer[] order = IntStream.range(0, bank.length).boxed().toArray(Integer[]::new);
      Arrays.sort(order, Comparator.comparingDouble((Integer i) -> sim[i]).reversed());
      double[] scores = new double[classes];
      for (int j = 0; j < Math.min(k, bank.length); j++) {
        scores[labels[order[j]]] += Math.exp(sim[order[j]] / t);
      }
      return scores;
    }

    private static double[] unit(float[] v) {
      double norm = 0;
      for (float x : v) {
        norm += (double) x * x;
      }
      norm = Math.max(Math.sqrt(norm), 1e-12);
      double[] u = new double[v.length];
      for (int i = 0; i < v.length; i++) {
        u[i] = v[i] / norm;
      }
      return u;
    }
  }
}
