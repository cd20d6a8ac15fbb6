package io.mocostream.cli;

import io.mocostream.metrics.CommandMetrics;
import io.mocostream.trainer.moco.MocoConfig;
import io.mocostream.trainer.stream.StreamTrainer;
import io.mocostream.trainer.stream.TrainerConfig;
import io.mocostream.trainer.stream.TrainerListener;
import io.mocostream.trainer.stream.TrainerMetrics;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Train a MoCo v2 encoder on a frames topic, publishing versions as it goes.",
      "A version every S steps or SEC seconds.",
      "Each version, the full trainer state, the step log and the consumer offsets commit in one transaction:",
      "after a crash the trainer resumes exactly where the last version left off."
    })
final class TrainCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin MetricsOptions metrics;
  @Mixin TrainSettings settings;

  @Option(
      names = "--help-config",
      help = true,
      description =
          "Print every -D setting (trainer and moco keys: type, default, valid values, meaning) and exit.")
  boolean helpConfig;

  @Override
  public Integer call() throws Exception {
    if (helpConfig) {
      System.out.print(TrainerConfig.describe());
      return 0;
    }
    TrainerConfig config = settings.config();
    AtomicReference<StreamTrainer> running = new AtomicReference<>();
    // The shutdown hook waits on this, not on main.join(): once call() returns, main calls
    // System.exit, which blocks
    // while hooks run, so a join would always wait its full minute. It opens when the run has
    // printed and closed.
    CountDownLatch finished = new CountDownLatch(1);
    try (StepProgress progress = new StepProgress(config.maxSteps(), System.out);
        CommandMetrics meters =
            CommandMetrics.start(
                metrics.endpoint(),
                "starting: restoring the state of model " + config.modelName())) {
      TrainerMetrics trainerMetrics =
          new TrainerMetrics(
              meters.registry(),
              config.modelName(),
              () -> running.get() == null ? Map.of() : running.get().consumerLag());
      meters.health(trainerMetrics.health());
      StreamTrainer trainer =
          new StreamTrainer(
              config,
              cluster.bootstrap,
              cluster.registry,
              TrainerListener.both(progress, trainerMetrics),
              cluster.clients());
      running.set(trainer);
      Thread hook =
          new Thread(
              () -> {
                trainer.stop(); // commit what is trained, then return
                try {
                  finished.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                  // exiting anyway
                }
              },
              "train-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      long version;
      try {
        version = trainer.run();
      } finally {
        // Also when the run fails: a hook left behind would wait a minute for a thread that
        // outlives the command.
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: it waits for us
        }
      }
      System.out.println("last_version=" + version);
    } finally {
      finished.countDown();
    }
    return 0;
  }

  /** The trainer's options, shared by {@code train} and {@code demo}. */
  static final class TrainSettings {
    @Option(
        names = "--model",
        required = true,
        description = "Model name: keys the model, state and step topics.")
    String model;

    @Option(
        names = "--topic",
        defaultValue = "frames.raw",
        description = "Frames topic (default ${DEFAULT-VALUE}).")
    String topic;

    @Option(
        names = "--batch",
        defaultValue = "64",
        description = "Frames per micro-batch (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(
        names = "--max-wait-ms",
        defaultValue = "2000",
        description = "Close a smaller batch after this wait (default ${DEFAULT-VALUE}).")
    long maxWaitMs;

    @ArgGroup(exclusive = true)
    PublishEvery publish;

    static final class PublishEvery {
      @Option(
          names = "--publish-every-steps",
          paramLabel = "S",
          description = "Publish every S steps (default 100).")
      Long steps;

      @Option(
          names = "--publish-every-s",
          paramLabel = "SEC",
          description = "Publish every SEC seconds instead.")
      Long seconds;
    }

    @Option(
        names = "--probe",
        defaultValue = "",
        paramLabel = "IDX",
        description =
            "Labelled probe for the kNN monitor: IMAGES,LABELS IDX files or 'fashion-mnist'.")
    String probe;

    @Option(
        names = "--device",
        defaultValue = "cpu",
        description = "cpu or gpu (default ${DEFAULT-VALUE}).")
    String device;

    @Option(
        names = "--arch",
        defaultValue = "resnet18-cifar",
        description =
            "Encoder: resnet18-cifar, resnet18-narrow, resnet50, with ,channels=1,size=28,width=16,... "
                + "(default ${DEFAULT-VALUE}).")
    String arch;

    @Option(
        names = "--max-steps",
        defaultValue = "0",
        description = "Stop after this many steps (0 = run on).")
    long maxSteps;

    @Option(
        names = "--keys-dir",
        defaultValue = "keys",
        description =
            "Ed25519 key pair of this trainer "
                + "(created on first run; the .pub file is what subscribers trust; default ${DEFAULT-VALUE}).")
    String keysDir;

    @Option(
        names = "--seed",
        defaultValue = "0",
        description = "Seed of every random choice (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
        names = {"-D", "--set"},
        paramLabel = "KEY=VALUE",
        description =
            "Any trainer or moco setting, e.g. -D moco.preset=small-data -D moco.queue.size=4096 "
                + "(all of them: --help-config).")
    Map<String, String> extra = new LinkedHashMap<>();

    TrainerConfig config() {
      Map<String, String> s = new HashMap<>();
      s.put(TrainerConfig.MODEL_NAME_CONFIG, model);
      s.put(TrainerConfig.FRAMES_TOPIC_CONFIG, topic);
      s.put(TrainerConfig.BATCH_SIZE_CONFIG, String.valueOf(batch));
      s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, String.valueOf(maxWaitMs));
      if (publish != null && publish.seconds != null) {
        s.put(TrainerConfig.PUBLISH_EVERY_SECONDS_CONFIG, String.valueOf(publish.seconds));
        s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "0");
      } else if (publish != null && publish.steps != null) {
        s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, String.valueOf(publish.steps));
      }
      s.put(TrainerConfig.PROBE_CONFIG, probe);
      s.put(TrainerConfig.DEVICE_CONFIG, device);
      s.put(MocoConfig.ARCHITECTURE_CONFIG, arch);
      s.put(TrainerConfig.MAX_STEPS_CONFIG, String.valueOf(maxSteps));
      s.put(TrainerConfig.KEYS_DIR_CONFIG, keysDir);
      s.put(MocoConfig.SEED_CONFIG, String.valueOf(seed));
      s.putAll(extra);
      return TrainerConfig.of(s);
    }
  }
}
