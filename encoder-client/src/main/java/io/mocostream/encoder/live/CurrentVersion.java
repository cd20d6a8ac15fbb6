package io.mocostream.encoder.live;

import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.vision.model.Architecture;
import java.time.Instant;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * The encoder version a {@link LiveEncoder} serves, as its verified manifest describes it.
 *
 * @param model model name
 * @param version version number
 * @param step trainer step the weights were taken at
 * @param architecture what the weights were loaded into (input channels and size, feature
 *     dimension)
 * @param metrics the manifest's metrics (loss, kNN top-1, images/s; each may be null)
 * @param lineage the stream ranges and step-log range that trained it
 * @param manifest the whole verified manifest (SHA-256, key id, parent version, creation time,
 *     ...); do not modify it
 * @param servingSince when this process started serving it
 */
public record CurrentVersion(
    String model,
    long version,
    long step,
    Architecture architecture,
    Metrics metrics,
    Lineage lineage,
    EncoderVersion manifest,
    Instant servingSince) {

  public CurrentVersion {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(manifest, "manifest");
  }

  /** The values of a verified manifest whose weights loaded into {@code architecture}. */
  static CurrentVersion of(
      EncoderVersion manifest, Architecture architecture, Instant servingSince) {
    return new CurrentVersion(
        manifest.getModelName(),
        manifest.getVersion(),
        manifest.getStep(),
        architecture,
        manifest.getMetrics(),
        manifest.getLineage(),
        manifest,
        servingSince);
  }

  /** kNN top-1 on the trainer's probe set, if the manifest has it. */
  public OptionalDouble knnTop1() {
    return knnTop1(metrics);
  }

  static OptionalDouble knnTop1(Metrics metrics) {
    return metrics == null || metrics.getKnnTop1() == null
        ? OptionalDouble.empty()
        : OptionalDouble.of(metrics.getKnnTop1());
  }

  /** Dimension of the vectors this version returns. */
  public int featureDim() {
    return architecture.featureDim();
  }

  @Override
  public String toString() {
    return "CurrentVersion["
        + model
        + " v"
        + version
        + ", step "
        + step
        + ", "
        + architecture
        + ", knn_top1 "
        + (knnTop1().isPresent() ? knnTop1().getAsDouble() : "-")
        + ", sha256 "
        + manifest.getPayloadSha256()
        + "]";
  }
}
