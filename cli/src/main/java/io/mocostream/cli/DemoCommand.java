package io.mocostream.cli;

import io.mocostream.cli.bench.LearnBench;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.ingest.IngestCommand;
import io.mocostream.ingest.IngestOptions;
import io.mocostream.producer.ProduceCommand;
import io.mocostream.producer.ProduceOptions;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.trainer.data.Datasets;
import io.mocostream.trainer.eval.Evaluation;
import io.mocostream.trainer.eval.FeatureExtractor;
import io.mocostream.trainer.eval.KnnMonitor;
import io.mocostream.trainer.eval.ProbeSet;
import io.mocostream.trainer.moco.MocoConfig;
import io.mocostream.trainer.stream.ProbeLoader;
import io.mocostream.trainer.stream.StreamTrainer;
import io.mocostream.trainer.stream.TrainerConfig;
import io.mocostream.trainer.stream.TrainerListener;
import io.mocostream.vision.model.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run the whole pipeline on this machine and report what it learned.",
      "An embedded broker and registry, a producer streaming Fashion-MNIST to frames.raw, ingest (validate, resize,",
      "dedup) to frames.train, the trainer (CPU, narrow encoder) reading frames.train, and a subscriber that prints",
      "each verified version with its kNN accuracy. Ends with a summary and a report (HTML + PNG)."
    })
final class DemoCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(DemoCommand.class);
  static final String MODEL = "fashion-demo";
  static final String INGEST_IN = IngestOptions.DEFAULT_IN_TOPIC;

  @Option(
      names = "--minutes",
      defaultValue = "6",
      description = "Training time (default ${DEFAULT-VALUE}).")
  double minutes;

  @Option(
      names = "--report",
      defaultValue = "demo-report",
      description = "Report directory (default ${DEFAULT-VALUE}).")
  Path reportDir;

  @Option(
      names = "--rate",
      defaultValue = "400",
      description = "Producer images per second (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--arch",
      defaultValue = "resnet18-narrow,width=16,channels=1,size=28",
      description = "Encoder (default ${DEFAULT-VALUE}).")
  String arch;

  @Option(
      names = "--publish-every-s",
      defaultValue = "30",
      description = "Seconds between versions (default ${DEFAULT-VALUE}).")
  long publishEverySeconds;

  @Option(
      names = {"-D", "--set"},
      paramLabel = "KEY=VALUE",
      description = "Any trainer or moco setting.")
  Map<String, String> extra = new HashMap<>();

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("mocostream-demo");
    Datasets.Splits data = Datasets.fashionMnist();
    Path images = work.resolve("train-images-idx3-ubyte");
    Path labels = work.resolve("train-labels-idx1-ubyte");
    data.train().write(images, labels);
    Path keys = work.resolve("keys");
    TrainerConfig config = TrainerConfig.of(settings(keys));
    System.out.printf(
        Locale.ROOT,
        "demo: Fashion-MNIST (%s, %d training images), %s, %.1f minutes%n",
        data.source(),
        data.train().size(),
        arch,
        minutes);

    try (LocalCluster cluster = LocalCluster.startOrUse(null, null)) {
      System.out.println("kafka " + cluster.bootstrap + ", registry " + cluster.registryUrl);
      Baselines baselines = baselines(config);
      System.out.printf(
          Locale.ROOT,
          "baselines on the probe: random-init encoder kNN %.4f, raw pixels kNN %.4f%n",
          baselines.randomInit,
          baselines.rawPixels);
      DemoReport report = new DemoReport(baselines.randomInit, baselines.rawPixels);

      AtomicReference<Throwable> producerFailure = new AtomicReference<>();
      Thread producer =
          new Thread(
              () -> {
                try {
                  ProduceCommand.run(
                      ProduceOptions.of(
                              cluster.bootstrap,
                              cluster.registryUrl,
                              "idx:" + images + "," + labels)
                          .withSourceId("fashion-mnist")
                          .withRate(rate)
                          .withLoop(true)
                          .withProgress(ProduceOptions.ProgressMode.QUIET),
                      new PrintStream(new ByteArrayOutputStream()));
                } catch (Throwable t) {
                  if (!Thread.currentThread().isInterrupted()) {
                    producerFailure.set(t);
                  }
                }
              },
              "demo-producer");
      producer.setDaemon(true);
      // Ingest needs its input topic; the producer would create it too, but ingest starts first.
      createIfMissing(cluster.bootstrap, INGEST_IN);
      IngestCommand.Running ingest =
          IngestCommand.start(
              IngestOptions.defaults(cluster.bootstrap, cluster.registryUrl)
                  .withTopics(INGEST_IN, config.framesTopic(), config.dlqTopic())
                  .withApplication("mocostream-demo-ingest", work.resolve("ingest-state"), -1, 1),
              System.out);
      producer.start();

      StreamTrainer trainer =
          new StreamTrainer(config, cluster.bootstrap, cluster.registryUrl, report);
      Thread stopper =
          new Thread(
              () -> {
                try {
                  Thread.sleep((long) (minutes * 60_000));
                } catch (InterruptedException e) {
                  return;
                }
                trainer.stop();
              },
              "demo-timer");
      stopper.setDaemon(true);

      // The subscriber is a separate client, as a downstream service would be: it trusts the
      // trainer's public key.
      ModelSigning.loadOrCreate(
          keys); // the trainer would create it too; the subscriber needs the .pub now
      VersionSubscriber subscriber =
          VersionSubscriber.builder(cluster.bootstrap, cluster.registryUrl, MODEL)
              .topic(config.versionsTopic())
              .trustedKeys(TrustedKeys.load(keys.resolve(ModelSigning.PUBLIC_KEY_FILE)))
              .startPosition(StartPosition.EARLIEST)
              .listener(
                  new VersionListener() {
                    @Override
                    public void onAccepted(VerifiedVersion v) {
                      System.out.println(versionLine(v.manifest()));
                    }
                  })
              .build();
      subscriber.start();
      Runtime.getRuntime().addShutdownHook(new Thread(trainer::stop));
      stopper.start();
      long last;
      try {
        last = trainer.run();
      } finally {
        producer.interrupt();
        Thread.sleep(2000); // let the subscriber print the last version
        subscriber.close();
        System.out.println(ingest.progressLine());
        ingest.close();
      }
      if (producerFailure.get() != null) {
        log.warn("the producer stopped early: {}", producerFailure.get().toString());
      }
      Path written = report.write(reportDir, config, data.source());
      System.out.println(report.summary(last));
      System.out.println("report: " + written.toAbsolutePath());
      return report.improved() ? ExitCode.OK.code : ExitCode.NOT_IMPROVED.code;
    }
  }

  /** Creates a topic with the broker's default partitions unless it exists. */
  static void createIfMissing(String bootstrap, String topic) {
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap))) {
      admin
          .createTopics(
              java.util.List.of(
                  new org.apache.kafka.clients.admin.NewTopic(
                      topic, java.util.Optional.empty(), java.util.Optional.empty())))
          .all()
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
        throw new IllegalStateException(
            "cannot create topic " + topic + ": " + e.getCause(), e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating topic " + topic, e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "broker " + bootstrap + " did not create topic " + topic + " within 30 s", e);
    }
  }

  private Map<String, String> settings(Path keys) {
    // The preset bench learn measures (see the README's learning section); the demo's options on
    // top.
    Map<String, String> s = LearnBench.preset();
    s.put(TrainerConfig.MODEL_NAME_CONFIG, MODEL);
    s.put(
        TrainerConfig.FRAMES_TOPIC_CONFIG,
        IngestOptions.DEFAULT_OUT_TOPIC); // the trainer reads what ingest wrote
    s.put(TrainerConfig.BATCH_SIZE_CONFIG, "64");
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "1000");
    s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "0");
    s.put(TrainerConfig.PUBLISH_EVERY_SECONDS_CONFIG, String.valueOf(publishEverySeconds));
    s.put(TrainerConfig.KEYS_DIR_CONFIG, keys.toString());
    s.put(MocoConfig.ARCHITECTURE_CONFIG, arch);
    s.putAll(extra);
    return s;
  }

  record Baselines(double randomInit, double rawPixels) {}

  /**
   * kNN of the untrained encoder (the trainer's own step-0 weights: same seed) and of raw pixels,
   * on its probe.
   */
  private static Baselines baselines(TrainerConfig config) {
    ProbeSet probe = ProbeLoader.load(config); // the same probe the trainer scores its versions on
    KnnMonitor knn = new KnnMonitor();
    try (Encoder random =
        Evaluation.randomInit(config.moco().architecture(), config.moco().seed())) {
      FeatureExtractor f = Evaluation.extractor(random);
      return new Baselines(probe.knnTop1(f, knn), probe.rawPixelsTop1(knn));
    }
  }

  /** Collects what the report shows, as the trainer goes. */
  static final class DemoReport extends ReportWriter implements TrainerListener {
    DemoReport(double randomInit, double rawPixels) {
      super(randomInit, rawPixels);
    }

    @Override
    public void onStep(
        long step, double loss, int images, long rejected, long skipped, double ips, long lag) {
      addStep(step, loss, ips, lag);
    }

    @Override
    public void onPublished(EncoderVersion v) {
      addVersion(v); // printed once, by the subscriber, when it has verified it
    }
  }

  /**
   * The console's one line per version: as the subscriber verified it (a downstream service's
   * view).
   */
  static String versionLine(EncoderVersion m) {
    Double loss = m.getMetrics() == null ? null : m.getMetrics().getLoss();
    Double knn = m.getMetrics() == null ? null : m.getMetrics().getKnnTop1();
    return String.format(
        Locale.ROOT,
        "version %d at step %d: loss %s, kNN %s (verified: sha256 %s..., key %s)",
        m.getVersion(),
        m.getStep(),
        loss == null ? "-" : String.format(Locale.ROOT, "%.3f", loss),
        knn == null ? "-" : String.format(Locale.ROOT, "%.4f", knn),
        io.mocostream.encoder.format.Untrusted.text(
            m.getPayloadSha256().substring(0, Math.min(12, m.getPayloadSha256().length())), 12),
        io.mocostream.encoder.format.Untrusted.text(m.getKeyId(), 32));
  }

  static Duration minutes(double m) {
    return Duration.ofMillis((long) (m * 60_000));
  }
}
