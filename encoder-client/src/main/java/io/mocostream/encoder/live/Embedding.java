package io.mocostream.encoder.live;

import java.util.Arrays;
import java.util.Objects;

/**
 * One image's embedding and the encoder version that made it.
 *
 * <p>The vector is the backbone's pooled features (F = the architecture's {@code featureDim},
 * 8·width for a ResNet-18), L2-normalised, so that a dot product of two vectors is their cosine
 * similarity, which is what MoCo's kNN monitor and nearest-neighbour search use. The projection
 * head is not applied: MoCo's head serves the contrastive loss, and its backbone features are the
 * representation it transfers. A vector of all-zero features (possible only for degenerate weights)
 * is returned as zeros rather than divided by zero.
 *
 * @param model model name
 * @param version encoder version whose weights computed the vector
 * @param vector F floats, unit length; not copied, do not modify it
 */
public record Embedding(String model, long version, float[] vector) {

  public Embedding {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(vector, "vector");
  }

  /** Dimension F of the vector. */
  public int featureDim() {
    return vector.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Embedding e
        && e.version == version
        && e.model.equals(model)
        && Arrays.equals(e.vector, vector);
  }

  @Override
  public int hashCode() {
    return 31 * Objects.hash(model, version) + Arrays.hashCode(vector);
  }

  @Override
  public String toString() {
    return "Embedding[" + model + " v" + version + ", " + vector.length + "-d]";
  }
}
