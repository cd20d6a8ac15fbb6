package io.mocostream.cli.bench;

import io.mocostream.producer.ProduceCommand;
import io.mocostream.producer.ProduceOptions;
import io.mocostream.producer.source.CorrelatedSource;
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
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code bench learn}: how much MoCo learns per minute from a stream. The full Fashion-MNIST
 * training set is streamed through Kafka (the producer, looping) into the streaming trainer with
 * the demo's preset for {@code M} minutes; every version's kNN top-1 on the demo's probe (2,000
 * training images, 200 per class; 500 test queries) makes the curve, and the last version's is the
 * figure, next to raw pixels and the untrained encoder on the same probe.
 */
public final class LearnBench {
  /**
   * Producer rate: above what the trainer consumes on a laptop, so the trainer never waits for
   * frames.
   */
  static final double RATE = 600;

  private LearnBench() {}

  /**
   * The demo's and the bench's settings (small images, small data; tuned on Fashion-MNIST, see the
   * README).
   */
  public static Map<String, String> preset() {
    Map<String, String> s = new HashMap<>();
    s.put(MocoConfig.ARCHITECTURE_CONFIG, "resnet18-narrow,width=16,channels=1,size=28");
    s.put(TrainerConfig.BATCH_SIZE_CONFIG, "64");
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "1000");
    s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "0");
    // Each version costs a kNN pass over the probe (2,500 images) on the training thread: once a
    // minute is a curve.
    s.put(TrainerConfig.PUBLISH_EVERY_SECONDS_CONFIG, "60");
    s.put(TrainerConfig.PROBE_CONFIG, "fashion-mnist");
    s.put(TrainerConfig.PROBE_BANK_CONFIG, "2000");
    s.put(TrainerConfig.PROBE_QUERIES_CONFIG, "500");
    // Small data, small images: the authors' CIFAR-10 demo (m 0.99, wd 5e-4, symmetric loss, T
    // 0.1), base rate
    // 0.06 per 256 images (0.015 at batch 64), 20 warm-up steps: see MocoConfig.Preset.SMALL_DATA.
    s.put(MocoConfig.PRESET_CONFIG, MocoConfig.Preset.SMALL_DATA.key());
    return s;
  }

  /** One point of the curve: a committed version. */
  public record Point(long step, double seconds, double knn) {}

  /** What a run learned. */
  public record Result(
      double knn,
      double rawPixels,
      double randomInit,
      long steps,
      double imagesPerSecond,
      List<Point> curve) {
    /** The bench's last line. */
    public String line() {
      return String.format(
          Locale.ROOT,
          "knn_top1=%.4f raw_pixels=%.4f random_init=%.4f steps=%d img_s=%.1f",
          knn,
          rawPixels,
          randomInit,
          steps,
          imagesPerSecond);
    }
  }

  /** The stream a run trains on: Fashion-MNIST as it is, or as correlated camera bursts. */
  public record Feed(CorrelatedSource.Settings correlated) {
    public static Feed iid() {
      return new Feed(null);
    }
  }

  /**
   * {@code bench learn}: one run of {@code minutes} with the preset and {@code overrides}; writes
   * {@code learn-curve.csv} and {@code learn-curve.png} to {@code outDir}; prints the last line.
   */
  public static Result run(
      String bootstrap,
      String registryUrl,
      double minutes,
      Map<String, String> overrides,
      Path outDir,
      PrintStream out)
      throws Exception {
    Result r = train(bootstrap, registryUrl, minutes, overrides, Feed.iid(), "learn", true, out);
    Files.createDirectories(outDir);
    writeCsv(outDir.resolve("learn-curve.csv"), r);
    writePng(
        outDir.resolve("learn-curve.png"),
        r,
        "bench learn: Fashion-MNIST streamed, " + minutes + " min");
    out.println(
        "curve: "
            + outDir.resolve("learn-curve.csv").toAbsolutePath()
            + ", "
            + outDir.resolve("learn-curve.png").toAbsolutePath());
    out.println(r.line());
    return r;
  }

  /**
   * Trains one model for {@code minutes} on {@code feed}; prints progress lines; does not print the
   * last line.
   *
   * @param baselines whether to score raw pixels and the untrained encoder on the probe too (else
   *     NaN)
   */
  public static Result train(
      String bootstrap,
      String registryUrl,
      double minutes,
      Map<String, String> overrides,
      Feed feed,
      String label,
      boolean baselines,
      PrintStream out)
      throws Exception {
    Datasets.Splits data = Datasets.fashionMnist();
    if (data.mini()) {
      throw new IllegalStateException(
          "bench learn needs the full Fashion-MNIST (Debian package dataset-fashion-mnist, "
              + "or -D"
              + Datasets.FASHION_MNIST_DIR_PROPERTY
              + "=DIR); only the bundled mini set was found");
    }
    Path work = Files.createTempDirectory("mocostream-learn");
    Path images = work.resolve("train-images-idx3-ubyte");
    Path labels = work.resolve("train-labels-idx1-ubyte");
    data.train().write(images, labels);
    String run = label + "-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> settings = preset();
    settings.put(TrainerConfig.MODEL_NAME_CONFIG, run);
    settings.put(TrainerConfig.FRAMES_TOPIC_CONFIG, run + ".frames");
    settings.put(TrainerConfig.DLQ_TOPIC_CONFIG, run + ".dlq");
    settings.put(TrainerConfig.STEPS_TOPIC_CONFIG, run + ".steps");
    settings.put(TrainerConfig.STATE_TOPIC_CONFIG, run + ".state");
    settings.put(TrainerConfig.VERSIONS_TOPIC_CONFIG, run + ".versions");
    settings.put(TrainerConfig.KEYS_DIR_CONFIG, work.resolve("keys").toString());
    settings.putAll(overrides);
    TrainerConfig config = TrainerConfig.of(settings);
    out.printf(
        Locale.ROOT,
        "%s: %s (%d training images%s), %s, %.1f min, settings %s%n",
        label,
        data.source(),
        data.train().size(),
        feed.correlated() == null ? "" : ", correlated: " + feed.correlated(),
        config.moco().architecture(),
        minutes,
        overrides);

    double randomInit = Double.NaN;
    double rawPixels = Double.NaN;
    if (baselines) {
      ProbeSet probe = ProbeLoader.load(config); // the probe the trainer scores its versions on
      KnnMonitor knn = new KnnMonitor();
      try (Encoder random =
          Evaluation.randomInit(config.moco().architecture(), config.moco().seed())) {
        FeatureExtractor f = Evaluation.extractor(random);
        randomInit = probe.knnTop1(f, knn);
      }
      rawPixels = probe.rawPixelsTop1(knn);
    }

    ProduceOptions produce =
        ProduceOptions.of(bootstrap, registryUrl, "idx:" + images + "," + labels)
            .withTopic(config.framesTopic())
            .withSourceId("fashion-mnist")
            .withRate(RATE)
            .withLoop(true)
            .withSeed(config.moco().seed())
            .withProgress(ProduceOptions.ProgressMode.QUIET);
    AtomicReference<Throwable> producerFailure = new AtomicReference<>();
    Thread producer =
        new Thread(
            () -> {
              PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
              try {
                if (feed.correlated() == null) {
                  ProduceCommand.run(produce, quiet);
                } else {
                  ProduceCommand.runCorrelated(produce, feed.correlated(), quiet);
                }
              } catch (Throwable t) {
                producerFailure.set(t);
              }
            },
            label + "-producer");
    producer.setDaemon(true);

    List<Point> curve = new ArrayList<>();
    long[] images0 = {0};
    long start = System.nanoTime();
    TrainerListener listener =
        new TrainerListener() {
          @Override
          public void onStep(
              long step, double loss, int n, long rejected, long skipped, double ips, long lag) {
            images0[0] += n;
          }

          @Override
          public void onPublished(EncoderVersion v) {
            double s = (System.nanoTime() - start) / 1e9;
            Double k = v.getMetrics().getKnnTop1();
            if (k != null) {
              curve.add(new Point(v.getStep(), s, k));
              out.printf(
                  Locale.ROOT,
                  "%s: step %d at %.0f s: kNN %.4f (loss %.3f)%n",
                  label,
                  v.getStep(),
                  s,
                  k,
                  v.getMetrics().getLoss() == null ? Double.NaN : v.getMetrics().getLoss());
            }
          }
        };
    // The topic exists (with the broker's partitions) before either side starts.
    try (org.apache.kafka.clients.admin.Admin admin =
        org.apache.kafka.clients.admin.Admin.create(
            Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap))) {
      admin
          .createTopics(
              List.of(
                  new org.apache.kafka.clients.admin.NewTopic(config.framesTopic(), 1, (short) 1)))
          .all()
          .get();
    }
    StreamTrainer trainer = new StreamTrainer(config, bootstrap, registryUrl, listener);
    producer.start();
    Thread timer =
        new Thread(
            () -> {
              try {
                Thread.sleep((long) (minutes * 60_000));
                trainer.stop();
              } catch (InterruptedException e) {
                // cancelled
              }
            },
            label + "-timer");
    timer.setDaemon(true);
    timer.start();
    long t0 = System.nanoTime();
    long last;
    try {
      last = trainer.run();
    } finally {
      producer.interrupt();
      timer.interrupt();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (producerFailure.get() != null && curve.isEmpty()) {
      throw new IllegalStateException(
          "the producer failed: " + producerFailure.get(), producerFailure.get());
    }
    if (curve.isEmpty() || last == 0) {
      throw new IllegalStateException(
          label + ": no version was committed in " + minutes + " minutes");
    }
    Point end = curve.get(curve.size() - 1);
    return new Result(
        end.knn(), rawPixels, randomInit, end.step(), images0[0] / seconds, List.copyOf(curve));
  }

  static void writeCsv(Path file, Result r) throws IOException {
    StringBuilder b = new StringBuilder("step,seconds,knn_top1\n");
    for (Point p : r.curve()) {
      b.append(String.format(Locale.ROOT, "%d,%.1f,%.4f%n", p.step(), p.seconds(), p.knn()));
    }
    Files.writeString(file, b);
  }

  static void writePng(Path file, Result r, String title) throws IOException {
    XYSeries knn = new XYSeries("kNN top-1");
    for (Point p : r.curve()) {
      knn.add(p.seconds() / 60, p.knn());
    }
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    renderer.setSeriesPaint(0, new Color(0, 110, 0));
    NumberAxis y = new NumberAxis("kNN top-1 (probe)");
    y.setAutoRangeIncludesZero(false);
    XYPlot plot =
        new XYPlot(new XYSeriesCollection(knn), new NumberAxis("minutes of training"), y, renderer);
    marker(
        plot,
        r.rawPixels(),
        String.format(Locale.ROOT, "raw pixels %.3f", r.rawPixels()),
        Color.GRAY);
    marker(
        plot,
        r.randomInit(),
        String.format(Locale.ROOT, "random init %.3f", r.randomInit()),
        Color.RED);
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, 800, 500);
  }

  private static void marker(XYPlot plot, double value, String label, Color color) {
    ValueMarker m = new ValueMarker(value);
    m.setPaint(color);
    m.setLabel(label);
    m.setLabelAnchor(org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT);
    m.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
    plot.addRangeMarker(m);
  }
}
