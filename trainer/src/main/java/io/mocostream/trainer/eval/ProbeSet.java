package io.mocostream.trainer.eval;

import io.mocostream.trainer.data.IdxDataset;
import io.mocostream.vision.augment.Augmenter;
import java.util.Objects;

/**
 * A labelled probe for the kNN monitor: memory-bank images and query images, turned once into the
 * encoder's input (un-augmented {@link Augmenter#center} views, C × S × S, normalised like the
 * training views) and kept, so that the trainer can score a new encoder every few steps without
 * decoding again.
 *
 * <p>Memory: (bank + queries) × C × S × S floats; 6,000 Fashion-MNIST images at 32 px are 24 MB.
 */
public final class ProbeSet {

  /** Images per call to an extractor: bounds the input and output arrays of one call. */
  static final int BLOCK = 512;

  private final String description;
  private final int viewLength;
  private final float[] bankViews; // nBank × C×S×S
  private final int[] bankLabels;
  private final float[] queryViews; // nQueries × C×S×S
  private final int[] queryLabels;
  private final int numClasses;

  private ProbeSet(
      String description,
      int viewLength,
      float[] bankViews,
      int[] bankLabels,
      float[] queryViews,
      int[] queryLabels) {
    this.description = description;
    this.viewLength = viewLength;
    this.bankViews = bankViews;
    this.bankLabels = bankLabels;
    this.queryViews = queryViews;
    this.queryLabels = queryLabels;
    int max = 0;
    for (int l : bankLabels) {
      max = Math.max(max, l);
    }
    for (int l : queryLabels) {
      max = Math.max(max, l);
    }
    this.numClasses = max + 1;
  }

  /**
   * Centre views of every image of {@code bank} and {@code queries}, sized and normalised by {@code
   * centre}.
   */
  public static ProbeSet of(IdxDataset bank, IdxDataset queries, Augmenter centre) {
    Objects.requireNonNull(centre, "centre");
    if (bank.size() == 0 || queries.size() == 0) {
      throw new IllegalArgumentException(
          "probe needs at least one bank and one query image, got "
              + bank.size()
              + " and "
              + queries.size());
    }
    int len = centre.viewLength();
    return new ProbeSet(
        bank.size()
            + " bank images from "
            + bank.source()
            + ", "
            + queries.size()
            + " queries from "
            + queries.source(),
        len,
        views(bank, centre),
        bank.labels(),
        views(queries, centre),
        queries.labels());
  }

  private static float[] views(IdxDataset d, Augmenter centre) {
    int len = centre.viewLength();
    float[] out = new float[Math.multiplyExact(d.size(), len)];
    for (int i = 0; i < d.size(); i++) {
      centre.center(d.image(i), out, i * len);
    }
    return out;
  }

  public int bankSize() {
    return bankLabels.length;
  }

  public int querySize() {
    return queryLabels.length;
  }

  public int numClasses() {
    return numClasses;
  }

  /** Floats per image: C × S × S. */
  public int viewLength() {
    return viewLength;
  }

  /** Where the images came from and how many. */
  public String description() {
    return description;
  }

  /**
   * kNN top-1 of {@code extractor}'s features: bank features as the memory, query features
   * classified.
   */
  public double knnTop1(FeatureExtractor extractor, KnnMonitor knn) {
    float[] bank = features(extractor, bankViews, bankLabels.length);
    float[] queries = features(extractor, queryViews, queryLabels.length);
    return knn.top1(bank, bankLabels, queries, queryLabels, extractor.dim(), numClasses);
  }

  /** The raw-pixel baseline: the same kNN on the normalised input pixels themselves. */
  public double rawPixelsTop1(KnnMonitor knn) {
    return knn.top1(bankViews, bankLabels, queryViews, queryLabels, viewLength, numClasses);
  }

  private float[] features(FeatureExtractor extractor, float[] views, int n) {
    int dim = extractor.dim();
    float[] out = new float[Math.multiplyExact(n, dim)];
    float[] block = new float[Math.min(n, BLOCK) * viewLength];
    for (int start = 0; start < n; start += BLOCK) {
      int m = Math.min(BLOCK, n - start);
      System.arraycopy(views, start * viewLength, block, 0, m * viewLength);
      float[] f = extractor.features(block, m);
      if (f.length < m * dim) {
        throw new IllegalStateException(
            "extractor returned " + f.length + " floats for " + m + " images of dim " + dim);
      }
      System.arraycopy(f, 0, out, start * dim, m * dim);
    }
    return out;
  }
}
