package io.mocostream.trainer.moco;

import io.mocostream.trainer.optim.LearningRate;
import io.mocostream.vision.model.Architecture;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Tiny shapes for engine tests: a width-16 ResNet-18 on 8×8 RGB, K = 16. Width 16, not less: oneDNN
 * in DJL's libtorch 2.7.1 computes wrong input gradients for convolutions whose channel count is
 * not a multiple of its vector block (16 with AVX-512, 8 with AVX2); see ConvolutionGradientTest.
 */
final class Tiny {

  static final Architecture ARCH =
      Architecture.parse("resnet18-narrow,width=16,dim=16,channels=3,size=8");

  private Tiny() {}

  /**
   * An empty queue and an unscaled rate, so that tests can count real keys and reason about the
   * rate used.
   */
  static MocoConfig.Builder config() {
    return MocoConfig.builder(ARCH)
        .queueSize(16)
        .keyMomentum(0.99f)
        .learningRate(LearningRate.constant(0.05f))
        .lrScaling(MocoConfig.LrScaling.NONE)
        .queueInit(MocoConfig.QueueInit.EMPTY)
        .shuffleBnGroups(2)
        .seed(7);
  }

  /** n images of random values, N×C×S×S. */
  static float[] images(long seed, int n) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[n * ARCH.imageFloats()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }

  static List<QueueEntry> entries(String source, int n, long firstOffset, long timestampMs) {
    List<QueueEntry> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(new QueueEntry(source, 0, firstOffset + i, -1, timestampMs + i));
    }
    return list;
  }

  static StepResult step(MocoEngine engine, long dataSeed, int n) {
    return engine.step(
        images(dataSeed, n),
        images(dataSeed + 1000, n),
        n,
        entries("cam", n, dataSeed * n, dataSeed * 1000));
  }
}
