package io.mocostream.trainer.eval;

/**
 * Images in, feature vectors out: what the kNN monitor needs of an encoder. Implemented by adapters
 * over the trainer's encoders ({@link Evaluation#extractor}) and by the raw-pixel baseline ({@link
 * #identity}).
 */
public interface FeatureExtractor {

  /**
   * Features of {@code n} images given as n × C × S × S floats (normalised as for training);
   * returns n × {@link #dim()} floats, row-major. Need not be L2-normalised: the kNN monitor does
   * that.
   */
  float[] features(float[] images, int n);

  /** Length of one feature vector. */
  int dim();

  /**
   * An extractor over any {@code (images, n) → n × dim features} function, such as an encoder's.
   */
  static FeatureExtractor of(
      int dim, java.util.function.BiFunction<float[], Integer, float[]> features) {
    return new FeatureExtractor() {
      @Override
      public float[] features(float[] images, int n) {
        return features.apply(images, n);
      }

      @Override
      public int dim() {
        return dim;
      }
    };
  }

  /** The pixels themselves as features (the raw-pixel baseline): {@code dim} = C × S × S. */
  static FeatureExtractor identity(int dim) {
    return new FeatureExtractor() {
      @Override
      public float[] features(float[] images, int n) {
        return java.util.Arrays.copyOf(images, n * dim);
      }

      @Override
      public int dim() {
        return dim;
      }
    };
  }
}
