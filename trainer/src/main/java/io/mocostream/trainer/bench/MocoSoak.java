package io.mocostream.trainer.bench;

import io.mocostream.trainer.data.Datasets;
import io.mocostream.trainer.data.IdxDataset;
import io.mocostream.trainer.moco.MocoConfig;
import io.mocostream.trainer.moco.MocoEngine;
import io.mocostream.trainer.moco.StepResult;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.augment.BatchAugmenter;
import io.mocostream.vision.model.Architecture;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A long run of {@link MocoEngine#step} on the shipped mini Fashion-MNIST with the small-data
 * settings and no gradient clip, counting skipped (non-finite) steps: the check that the engine's
 * own scalars and its channel counts keep every gradient finite. Small model and batch so that
 * thousands of steps take minutes on one core.
 *
 * <p>Usage: {@code MocoSoak [--steps 5000] [--batch 16] [--size 16] [--width 16] [--symmetric
 * true]}; last line {@code steps=<n> skipped=<s> last_loss=<l> seconds=<t>}.
 */
public final class MocoSoak {

  private MocoSoak() {}

  public static void main(String[] args) throws Exception {
    int steps = 5000;
    int batch = 16;
    int size = 16;
    int width = 16;
    boolean symmetric = true;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--steps" -> steps = Integer.parseInt(args[i + 1]);
        case "--batch" -> batch = Integer.parseInt(args[i + 1]);
        case "--size" -> size = Integer.parseInt(args[i + 1]);
        case "--width" -> width = Integer.parseInt(args[i + 1]);
        case "--symmetric" -> symmetric = Boolean.parseBoolean(args[i + 1]);
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + "; expected --steps, --batch, --size, --width, --symmetric");
      }
    }
    IdxDataset train = Datasets.fashionMnistMini().train();
    Architecture arch = Architecture.resnet18Narrow(1, size).withWidth(width);
    // the small-data preset (lr 0.06 per 256, 20-step warm-up) with 8 BatchNorm groups and a
    // 1,024-key queue
    MocoConfig config =
        MocoConfig.builder(arch)
            .preset(MocoConfig.Preset.SMALL_DATA)
            .shuffleBnGroups(8)
            .queueSize(1024)
            .symmetric(symmetric)
            .seed(1)
            .build();
    Augmenter augmenter = new Augmenter(AugmentConfig.mocoV2(size, 1));
    long t0 = System.nanoTime();
    float lastLoss = Float.NaN;
    try (MocoEngine engine = new MocoEngine(config);
        BatchAugmenter batches = new BatchAugmenter(augmenter, 1)) {
      float[] q = new float[batch * augmenter.viewLength()];
      float[] k = new float[batch * augmenter.viewLength()];
      SplittableRandom pick = new SplittableRandom(1);
      long offset = 0;
      for (int s = 0; s < steps; s++) {
        List<BatchAugmenter.Item> items = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
          items.add(new BatchAugmenter.Item(train.image(pick.nextInt(train.size())), 0, offset++));
        }
        batches.twoViews(items, 1, q, k);
        StepResult r = engine.step(q, k, batch, null);
        lastLoss = r.loss();
        if ((s + 1) % 500 == 0) {
          System.out.printf(
              Locale.ROOT,
              "step %d: loss %.4f, skipped %d, %.0f s%n",
              s + 1,
              r.loss(),
              engine.skippedSteps(),
              (System.nanoTime() - t0) / 1e9);
        }
      }
      System.out.printf(
          Locale.ROOT,
          "steps=%d skipped=%d last_loss=%.4f seconds=%.0f%n",
          engine.stepCount(),
          engine.skippedSteps(),
          lastLoss,
          (System.nanoTime() - t0) / 1e9);
    }
  }
}
