package io.mocostream.serving.bench;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.schemas.OffsetRange;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoders;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Encoder versions and images made up for benches and tests, with no trainer: real weights in the
 * trainer's format (the backbone of {@link Encoders#initialize}, saved by {@code
 * Block.saveParameters}: what {@code MocoEngine.saveEncoderWeights} writes), so that a live encoder
 * loads and runs them exactly as it would a trained version, and complete manifest drafts for
 * {@code EncoderPublisher}.
 */
public final class SyntheticVersions {
  private SyntheticVersions() {}

  /**
   * Backbone weights of {@code arch} initialised from {@code seed} (distinct seeds give distinct
   * versions).
   */
  public static byte[] weights(Architecture arch, long seed) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Block backbone = Encoders.backbone(arch);
      Block head = Encoders.head(arch);
      Encoders.initialize(backbone, head, arch, manager, seed);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        backbone.saveParameters(out);
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A manifest draft with every field a trainer sets: {@code version} of {@code model} for {@code
   * arch}, trained (so its lineage says) on {@code frames.train} offsets up to {@code version·100},
   * with kNN top-1 {@code knnTop1} (null: none measured).
   */
  public static EncoderVersion.Builder draft(
      String model, long version, Architecture arch, Double knnTop1) {
    return EncoderVersion.newBuilder()
        .setModelName(model)
        .setVersion(version)
        .setParentVersion(version > 1 ? version - 1 : null)
        .setArchitecture(arch.toAvro())
        .setStep(version * 100)
        .setCreatedAt(Instant.ofEpochMilli(1_700_000_000_000L + version * 60_000))
        .setLineage(
            Lineage.newBuilder()
                .setRanges(
                    List.of(new OffsetRange("frames.train", 0, (version - 1) * 100, version * 100)))
                .setStepLogTopic("trainer.steps")
                .setFirstStep((version - 1) * 100)
                .setLastStep(version * 100)
                .build())
        .setMetrics(
            Metrics.newBuilder()
                .setLoss(5.0 - 0.1 * version)
                .setKnnTop1(knnTop1)
                .setImagesPerSecond(47.0)
                .build())
        .setConfigFingerprint("5e".repeat(32));
  }

  /**
   * A PNG of {@code size}×{@code size} pixels, grey ({@code channels} 1) or RGB, with smooth
   * gradients and a pattern that depends on {@code seed} (distinct seeds give distinct images,
   * hence distinct embeddings).
   */
  public static byte[] png(int size, int channels, long seed) {
    BufferedImage img =
        new BufferedImage(
            size, size, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
    SplittableRandom random = new SplittableRandom(seed);
    double fx = 0.05 + random.nextDouble() * 0.5;
    double fy = 0.05 + random.nextDouble() * 0.5;
    double phase = random.nextDouble() * Math.PI * 2;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        int r = (int) (127.5 + 127.5 * Math.sin(fx * x + phase));
        int g = (int) (127.5 + 127.5 * Math.cos(fy * y - phase));
        int b = (x * 255 / Math.max(1, size - 1) + random.nextInt(16)) & 0xFF;
        if (channels == 1) {
          img.getRaster().setSample(x, y, 0, (r + g + b) / 3);
        } else {
          img.setRGB(x, y, (r << 16) | (g << 8) | b);
        }
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
