package io.mocostream.encoder;

import io.mocostream.schemas.ArchitectureSpec;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.schemas.OffsetRange;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Manifest drafts and payloads for tests. */
public final class Drafts {
  private Drafts() {}

  /** A complete draft (every field a trainer sets) of {@code model} {@code version}. */
  public static EncoderVersion.Builder draft(String model, long version) {
    return EncoderVersion.newBuilder()
        .setModelName(model)
        .setVersion(version)
        .setParentVersion(version > 1 ? version - 1 : null)
        .setArchitecture(
            ArchitectureSpec.newBuilder()
                .setBackbone("resnet18-cifar")
                .setHead("mlp")
                .setEmbeddingDim(128)
                .setFeatureDim(512)
                .setChannels(3)
                .setInputSize(32)
                .setParams(
                    Map.of("width", "1.0", "blocks", "2,2,2,2", "zero_init_residual", "false"))
                .build())
        .setStep(version * 100)
        .setCreatedAt(Instant.ofEpochMilli(1_700_000_000_000L + version))
        .setLineage(
            Lineage.newBuilder()
                .setRanges(
                    List.of(
                        new OffsetRange("frames.train", 0, 0L, version * 100),
                        new OffsetRange("frames.train", 1, 0L, version * 90)))
                .setStepLogTopic("trainer.steps")
                .setFirstStep(0)
                .setLastStep(version * 100)
                .build())
        .setMetrics(
            Metrics.newBuilder()
                .setLoss(4.5 - version * 0.1)
                .setKnnTop1(0.5 + version * 0.01)
                .setImagesPerSecond(47.0)
                .build())
        .setConfigFingerprint("ab".repeat(32));
  }

  /** Deterministic pseudo-random bytes. */
  public static byte[] payload(int bytes, long seed) {
    byte[] b = new byte[bytes];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }
}
