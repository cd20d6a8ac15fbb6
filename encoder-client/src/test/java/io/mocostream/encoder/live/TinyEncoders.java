package io.mocostream.encoder.live;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import io.mocostream.encoder.Drafts;
import io.mocostream.frames.DecodedImage;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Metrics;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import io.mocostream.vision.model.Encoders;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/**
 * Real, tiny encoders for the live encoder's tests: distinct valid payloads from seeds, and their
 * reference outputs.
 */
public final class TinyEncoders {
  /** 32-d features, 16×16 grey input: loads and runs in milliseconds. */
  public static final Architecture ARCH =
      Architecture.parse("resnet18-narrow,width=4,channels=1,size=16");

  private TinyEncoders() {}

  /**
   * Backbone weights of {@code arch} initialised from {@code seed}, in Block.saveParameters format.
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

  /** A complete manifest draft for {@link #ARCH} with the given kNN top-1 (null: none). */
  public static EncoderVersion.Builder draft(String model, long version, Double knnTop1) {
    return Drafts.draft(model, version)
        .setArchitecture(ARCH.toAvro())
        .setMetrics(
            Metrics.newBuilder()
                .setLoss(4.0)
                .setKnnTop1(knnTop1)
                .setImagesPerSecond(100.0)
                .build());
  }

  /** A deterministic grey test image (not square, so the centre crop matters). */
  public static DecodedImage image(long seed) {
    byte[] px = new byte[24 * 20];
    new SplittableRandom(seed).nextBytes(px);
    return new DecodedImage(24, 20, 1, px);
  }

  /**
   * What the live encoder must return for {@code image} under {@code weights}: computed
   * independently.
   */
  public static float[] reference(byte[] weights, DecodedImage image) {
    try (Encoder e = Encoder.load(ARCH, weights)) {
      float[] x = new float[ARCH.imageFloats()];
      new Augmenter(AugmentConfig.mocoV2(ARCH.inputSize(), ARCH.channels())).center(image, x, 0);
      float[] f = e.features(x, 1);
      double norm = 0;
      for (float v : f) {
        norm += v * v;
      }
      for (int i = 0; i < f.length; i++) {
        f[i] /= (float) Math.sqrt(norm);
      }
      return f;
    }
  }
}
