package io.mocostream.trainer.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.mocostream.trainer.moco.InfoNce;
import io.mocostream.trainer.moco.MocoConfig;
import io.mocostream.trainer.moco.MocoEngine;
import io.mocostream.trainer.moco.StepResult;
import io.mocostream.trainer.moco.StepTimings;
import io.mocostream.trainer.optim.LearningRate;
import io.mocostream.trainer.optim.Sgd;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoders;
import io.mocostream.vision.model.GradMode;
import io.mocostream.vision.model.InputBuffer;
import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * MoCo's overhead over a plain training step of the same encoder, in one process (a plain main, no
 * JMH).
 *
 * <p>The MoCo step is {@link MocoEngine#step} with a full queue of K keys ({@link
 * MocoEngine#prefillQueue}). The plain step is what training the query encoder alone costs: the
 * same backbone + head, forward, the same InfoNCE loss against a fixed random positive per image
 * and a fixed random K-key queue, backward, and the same SGD — no key encoder forward, no momentum
 * update, no enqueue. Ideally MoCo costs 4/3 of it (one extra forward pass per image next to
 * forward + backward ≈ 3 forward passes).
 *
 * <p>Steps alternate (MoCo, plain, MoCo, ...) after separate warm-ups, so machine noise hits both
 * alike. Inputs are random 3×S×S tensors. The last line printed is {@code moco_img_s=<a>
 * plain_img_s=<b> moco_vs_plain=<plain_img_s / moco_img_s> gflops=<c> contended_vs_alone=<d>},
 * where gflops counts the encoder's forward MACs (walked from the blocks) × 2 FLOPs × (3 for the
 * query's forward + backward + 1 for the key forward) per image of the MoCo step, and
 * contended_vs_alone is the MoCo step rate while another process keeps one core busy ({@code sh -c
 * 'while :; do :; done'}, started and stopped by the bench) over the rate without it: on two cores
 * a fair share is 0.5; spinning PyTorch threads fall far below it.
 *
 * <p>Usage: {@code MocoBench --arch resnet18-cifar --batch 64 --steps 30 --device cpu|gpu [--warmup
 * 3] [--queue 65536] [--groups 2]}; threads: {@code -Dai.djl.pytorch.num_threads=N}.
 */
public final class MocoBench {

  private MocoBench() {}

  public static void main(String[] args) {
    String arch = Architecture.RESNET18_CIFAR;
    int batch = 64;
    int steps = 30;
    int warmup = 3;
    int queue = MocoConfig.DEFAULT_QUEUE_SIZE;
    int groups = MocoConfig.DEFAULT_SHUFFLE_BN_GROUPS;
    String device = "cpu";
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + flag + " needs a value");
      }
      String value = args[++i];
      switch (flag) {
        case "--arch" -> arch = value;
        case "--batch" -> batch = Integer.parseInt(value);
        case "--steps" -> steps = Integer.parseInt(value);
        case "--warmup" -> warmup = Integer.parseInt(value);
        case "--queue" -> queue = Integer.parseInt(value);
        case "--device" -> device = value;
        case "--groups" -> groups = Integer.parseInt(value);
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + flag
                    + "; expected --arch, --batch, --steps, --warmup, --queue, --groups, --device");
      }
    }
    run(arch, batch, steps, warmup, queue, groups, device, System.out);
  }

  /**
   * {@link #run(String, int, int, int, int, int, String, PrintStream)} with 3 warm-up steps, K =
   * 65536 and 8 BatchNorm groups.
   */
  public static String run(String arch, int batch, int steps, String device, PrintStream out) {
    return run(
        arch,
        batch,
        steps,
        3,
        MocoConfig.DEFAULT_QUEUE_SIZE,
        MocoConfig.DEFAULT_SHUFFLE_BN_GROUPS,
        device,
        out);
  }

  /**
   * Runs the benchmark, prints per-phase timings, and returns (and prints last) the summary line.
   */
  public static String run(
      String archText,
      int batch,
      int steps,
      int warmup,
      int queueSize,
      int bnGroups,
      String deviceName,
      PrintStream out) {
    if (batch < 2 || steps < 1 || warmup < 0) {
      throw new IllegalArgumentException(
          "batch " + batch + " (>= 2), steps " + steps + " (>= 1), warm-up " + warmup + " (>= 0)");
    }
    Architecture arch = Architecture.parse(archText);
    Device device = device(deviceName);
    MocoConfig config =
        MocoConfig.builder(arch)
            .queueSize(queueSize)
            .learningRate(LearningRate.constant(0.03f))
            .shuffleBnGroups(bnGroups)
            .seed(1)
            .build();
    int perImage = arch.imageFloats();
    float[][] views = new float[4][];
    SplittableRandom random = new SplittableRandom(2);
    for (int v = 0; v < views.length; v++) {
      views[v] = new float[batch * perImage];
      for (int i = 0; i < views[v].length; i++) {
        views[v][i] = (float) (random.nextDouble() * 4 - 2);
      }
    }
    out.printf(
        Locale.ROOT,
        "arch=%s batch=%d steps=%d warmup=%d K=%d bn_groups=%d device=%s threads=%s "
            + "interop_threads=%s%n",
        arch,
        batch,
        steps,
        warmup,
        queueSize,
        bnGroups,
        device,
        System.getProperty(
            "ai.djl.pytorch.num_threads",
            "default(" + Runtime.getRuntime().availableProcessors() + ")"),
        System.getProperty("ai.djl.pytorch.num_interop_threads", "default"));
    try (MocoEngine moco = new MocoEngine(config, device);
        PlainStep plain = new PlainStep(config, device, batch)) {
      moco.prefillQueue();
      for (int i = 0; i < warmup; i++) {
        moco.step(views[i % 2], views[2 + i % 2], batch, null);
        plain.step(views[i % 2]);
      }
      StepTimings mocoPhases = StepTimings.ZERO;
      double plainSeconds = 0;
      double[] plainPhases = new double[2];
      float lastLoss = 0;
      for (int i = 0; i < steps; i++) {
        StepResult r = moco.step(views[i % 2], views[2 + i % 2], batch, null);
        mocoPhases = mocoPhases.plus(r.timings());
        lastLoss = r.loss();
        plainSeconds += plain.step(views[i % 2]);
        plainPhases[0] += plain.lastForwardBackwardMs;
        plainPhases[1] += plain.lastOptimizerMs;
      }
      double contendedSeconds = contended(moco, views, batch, steps, warmup);
      double mocoSeconds = mocoPhases.totalMs() / 1000;
      StepTimings perStep = mocoPhases.dividedBy(steps);
      out.printf(Locale.ROOT, "moco  per step: %s (loss %.4f)%n", perStep, lastLoss);
      out.printf(
          Locale.ROOT,
          "plain per step: forwardBackward=%.1fms sgd=%.1fms total=%.1fms%n",
          plainPhases[0] / steps,
          plainPhases[1] / steps,
          plainSeconds * 1000 / steps);
      double mocoImgS = (double) batch * steps / mocoSeconds;
      double plainImgS = (double) batch * steps / plainSeconds;
      double gflops = mocoImgS * plain.forwardMacsPerImage * 2 * 4 / 1e9;
      out.printf(Locale.ROOT, "encoder forward MACs per image: %d%n", plain.forwardMacsPerImage);
      double contendedImgS = (double) batch * steps / contendedSeconds;
      out.printf(Locale.ROOT, "moco next to a busy process: %.2f img/s%n", contendedImgS);
      String summary =
          String.format(
              Locale.ROOT,
              "moco_img_s=%.2f plain_img_s=%.2f moco_vs_plain=%.3f gflops=%.1f contended_vs_alone=%.3f",
              mocoImgS,
              plainImgS,
              plainImgS / mocoImgS,
              gflops,
              contendedImgS / mocoImgS);
      out.println(summary);
      return summary;
    }
  }

  /**
   * Seconds of {@code steps} MoCo steps (after {@code warmup} unmeasured ones) while a separate
   * process spins on one core. A process, not a Java thread: the point is how PyTorch's threads
   * share the CPU with someone else.
   */
  private static double contended(
      MocoEngine moco, float[][] views, int batch, int steps, int warmup) {
    Process busy;
    try {
      busy =
          new ProcessBuilder("sh", "-c", "while :; do :; done").redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot start the busy process (sh) for the contended run", e);
    }
    Thread reaper = new Thread(busy::destroyForcibly, "moco-bench-busy-reaper");
    Runtime.getRuntime().addShutdownHook(reaper); // never leave a spinning process behind
    try {
      for (int i = 0; i < warmup; i++) {
        moco.step(views[i % 2], views[2 + i % 2], batch, null);
      }
      double ms = 0;
      for (int i = 0; i < steps; i++) {
        ms += moco.step(views[i % 2], views[2 + i % 2], batch, null).timings().totalMs();
      }
      return ms / 1000;
    } finally {
      busy.destroyForcibly();
      try {
        busy.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        Runtime.getRuntime().removeShutdownHook(reaper);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
    }
  }

  private static Device device(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        int gpus = Engine.getInstance().getGpuCount();
        if (gpus < 1) {
          throw new IllegalStateException(
              "--device gpu: the "
                  + Engine.getInstance().getEngineName()
                  + " "
                  + Engine.getInstance().getVersion()
                  + " engine sees no GPU (CPU-only natives on the "
                  + "classpath, or no CUDA driver); use --device cpu or a CUDA libtorch");
        }
        yield Device.gpu();
      }
      default ->
          throw new IllegalArgumentException(
              "--device '" + name + "' is unknown; expected cpu or gpu");
    };
  }

  /**
   * The baseline: the query encoder trained alone with the same loss shape (InfoNCE against fixed
   * random positives and a fixed random queue) and the same optimizer.
   */
  private static final class PlainStep implements AutoCloseable {
    private final MocoConfig config;
    private final NDManager manager;
    private final ParameterStore parameters;
    private final SequentialBlock backbone;
    private final SequentialBlock head;
    private final Sgd sgd;
    private final NDArray positives; // N×D
    private final NDArray queue; // D×K
    private final InputBuffer input = new InputBuffer();
    private final int batch;
    final long forwardMacsPerImage;
    double lastForwardBackwardMs;
    double lastOptimizerMs;

    PlainStep(MocoConfig config, Device device, int batch) {
      this.config = config;
      this.batch = batch;
      Architecture arch = config.architecture();
      GradMode.disableOnThisThread();
      manager = NDManager.newBaseManager(device);
      parameters = new ParameterStore(manager, false);
      backbone = Encoders.backbone(arch);
      head = Encoders.head(arch);
      Encoders.initialize(backbone, head, arch, manager, config.seed());
      forwardMacsPerImage =
          Encoders.forwardMacs(backbone, Encoders.inputShape(arch, 1))
              + Encoders.forwardMacs(head, new Shape(1, arch.featureDim()));
      java.util.List<NDArray> weights = new java.util.ArrayList<>();
      for (var p : backbone.getParameters()) {
        if (p.getValue().requiresGradient()) {
          weights.add(p.getValue().getArray());
        }
      }
      for (var p : head.getParameters()) {
        weights.add(p.getValue().getArray());
      }
      sgd = new Sgd(manager, weights, config.sgdMomentum(), config.weightDecay());
      int d = arch.embeddingDim();
      positives = manager.randomNormal(new Shape(batch, d)).normalize(2, 1);
      queue = manager.randomNormal(new Shape(d, config.queueSize())).normalize(2, 0);
    }

    /** One step; returns its wall time in seconds. */
    double step(float[] images) {
      long t0 = System.nanoTime();
      GradMode.disableOnThisThread();
      try (NDManager scope = manager.newSubManager()) {
        NDArray x = input.wrap(scope, images, Encoders.inputShape(config.architecture(), batch));
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          NDArray f = backbone.forward(parameters, new NDList(x), true).singletonOrThrow();
          NDArray q =
              head.forward(parameters, new NDList(f), true).singletonOrThrow().normalize(2, 1);
          NDArray loss = InfoNce.loss(q, positives, queue, null, config.temperature());
          loss.getFloat(); // synchronise, as the MoCo step does to check the loss
          collector.backward(loss);
        }
        long t1 = System.nanoTime();
        sgd.step(0.03f, scope);
        long t2 = System.nanoTime();
        lastForwardBackwardMs = (t1 - t0) / 1e6;
        lastOptimizerMs = (t2 - t1) / 1e6;
        return (t2 - t0) / 1e9;
      }
    }

    @Override
    public void close() {
      manager.close();
    }
  }
}
