package io.mocostream.trainer.eval;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Objects;

/**
 * Weighted k-nearest-neighbour classification of features, exactly as the kNN monitor of the MoCo
 * authors' CIFAR-10 demo ({@code moco/colab}, after Wu et al.'s instance discrimination): features
 * L2-normalised, cosine similarity of each query to every memory-bank feature, the top k neighbours
 * each vote for its class with weight exp(sim / τ), the class with the largest summed weight wins.
 * Defaults k = 200, τ = 0.1.
 *
 * <p>Runs on DJL NDArrays ({@code matMul}, {@code topK}) in one manager per call; queries go in
 * chunks, each in a sub-manager closed after the chunk, with the chunk size chosen so that the
 * N-wide similarity block and the one-hot votes stay under {@link #MAX_CHUNK_FLOATS} floats.
 * Stateless and thread-safe.
 */
public final class KnnMonitor {

  /** Neighbours that vote (the demo's {@code knn_k}). */
  public static final int DEFAULT_K = 200;

  /** Temperature of the vote weights (the demo's {@code knn_t}). */
  public static final float DEFAULT_TEMPERATURE = 0.1f;

  /**
   * Bound on the floats of one chunk's similarity (chunk × N) and vote (chunk × k × classes)
   * arrays.
   */
  public static final long MAX_CHUNK_FLOATS = 1L << 24;

  private final int k;
  private final float temperature;
  private final Device device;
  private final long maxChunkFloats;

  /** k = {@value #DEFAULT_K}, τ = {@value #DEFAULT_TEMPERATURE}, on the default device. */
  public KnnMonitor() {
    this(DEFAULT_K, DEFAULT_TEMPERATURE, null);
  }

  /**
   * @param k neighbours that vote; a bank smaller than k uses all its entries
   * @param temperature τ of the weights exp(sim / τ)
   * @param device where to compute; null for the engine's default
   */
  public KnnMonitor(int k, float temperature, Device device) {
    this(k, temperature, device, MAX_CHUNK_FLOATS);
  }

  // Tests shrink the chunk bound to exercise the chunking.
  KnnMonitor(int k, float temperature, Device device, long maxChunkFloats) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be ≥ 1, got " + k);
    }
    if (!(temperature > 0) || !Float.isFinite(temperature)) {
      throw new IllegalArgumentException("temperature must be finite and > 0, got " + temperature);
    }
    this.k = k;
    this.temperature = temperature;
    this.device = device;
    this.maxChunkFloats = maxChunkFloats;
  }

  public int k() {
    return k;
  }

  public float temperature() {
    return temperature;
  }

  /**
   * Predicted class of each query.
   *
   * @param bank N × D memory-bank features, row-major
   * @param bankLabels N labels in 0..numClasses-1
   * @param queries Q × D query features
   * @param dim D
   * @param numClasses number of classes
   * @return Q predicted labels
   */
  public int[] predict(float[] bank, int[] bankLabels, float[] queries, int dim, int numClasses) {
    Objects.requireNonNull(bank, "bank");
    Objects.requireNonNull(bankLabels, "bankLabels");
    Objects.requireNonNull(queries, "queries");
    if (dim < 1 || numClasses < 1) {
      throw new IllegalArgumentException(
          "dim and numClasses must be ≥ 1, got " + dim + " and " + numClasses);
    }
    int n = bankLabels.length;
    if (n == 0 || (long) n * dim != bank.length) {
      throw new IllegalArgumentException(
          "bank has "
              + bank.length
              + " floats for "
              + n
              + " labels of dim "
              + dim
              + " (need "
              + (long) n * dim
              + ", and at least one entry)");
    }
    if (queries.length % dim != 0) {
      throw new IllegalArgumentException(
          "queries has " + queries.length + " floats, not a multiple of dim " + dim);
    }
    for (int i = 0; i < n; i++) {
      if (bankLabels[i] < 0 || bankLabels[i] >= numClasses) {
        throw new IllegalArgumentException(
            "bank label "
                + bankLabels[i]
                + " at index "
                + i
                + " is outside 0.."
                + (numClasses - 1));
      }
    }
    int q = queries.length / dim;
    int kk = Math.min(k, n);
    int chunk =
        (int)
            Math.max(
                1,
                Math.min(
                    q, Math.min(maxChunkFloats / n, maxChunkFloats / ((long) kk * numClasses))));
    int[] out = new int[q];
    try (NDManager manager =
        device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device)) {
      // bankT: D×N, so that each chunk's q.matMul(bankT) lands in the chunk's scope (first
      // operand's manager)
      NDArray bankT = normalize(manager.create(bank, new Shape(n, dim))).transpose();
      long[] labels = new long[n];
      for (int i = 0; i < n; i++) {
        labels[i] = bankLabels[i];
      }
      NDArray bankLab = manager.create(labels); // N
      for (int start = 0; start < q; start += chunk) {
        int m = Math.min(chunk, q - start);
        try (NDManager scope = manager.newSubManager()) {
          float[] part = new float[m * dim];
          System.arraycopy(queries, start * dim, part, 0, m * dim);
          NDArray x = normalize(scope.create(part, new Shape(m, dim))); // m×D
          NDArray sim = x.matMul(bankT); // m×N cosine similarities
          NDList top = sim.topK(kk, 1, true, true); // values, indices: m×k
          NDArray weights = top.get(0).div(temperature).exp(); // m×k
          NDArray neighbourLabels = bankLab.take(scope, top.get(1)); // m×k
          NDArray votes = neighbourLabels.oneHot(numClasses, DataType.FLOAT32); // m×k×C
          NDArray scores = votes.mul(weights.expandDims(2)).sum(new int[] {1}); // m×C
          long[] pred = scores.argMax(1).toType(DataType.INT64, false).toLongArray();
          for (int i = 0; i < m; i++) {
            out[start + i] = (int) pred[i];
          }
        }
      }
    }
    return out;
  }

  /** Fraction of queries whose predicted class equals their label, 0..1. */
  public double top1(
      float[] bank, int[] bankLabels, float[] queries, int[] queryLabels, int dim, int numClasses) {
    int[] pred = predict(bank, bankLabels, queries, dim, numClasses);
    if (queryLabels.length != pred.length) {
      throw new IllegalArgumentException(
          queryLabels.length + " query labels for " + pred.length + " queries");
    }
    return accuracy(pred, queryLabels);
  }

  /** Fraction of equal entries. */
  public static double accuracy(int[] predicted, int[] labels) {
    if (predicted.length == 0) {
      return 0;
    }
    int correct = 0;
    for (int i = 0; i < predicted.length; i++) {
      correct += predicted[i] == labels[i] ? 1 : 0;
    }
    return (double) correct / predicted.length;
  }

  // F.normalize(x, dim=1): rows divided by max(‖row‖, 1e-12)
  private static NDArray normalize(NDArray x) {
    return x.normalize(2, 1, 1e-12);
  }
}
