package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.metrics.MetricsServer;
import io.mocostream.metrics.StandardMeters;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.Scrape;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's metrics endpoint against a real broker: a run with a probe and two broken frames,
 * scraped over HTTP while it trains and after it stopped.
 */
@ExtendWith(KafkaClusterExtension.class)
class TrainerMetricsTest {

  @Test
  void aRunShowsItsStepsLossKnnLagDeadLettersAndCommitTimes(KafkaCluster cluster, @TempDir Path dir)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("tm");
    cluster.createTopic(prefix + ".frames", 2);
    // 8 steps of 8 usable frames + 2 broken ones, and 32 frames more than the run trains: lag left
    // at the end.
    int frames = 8 * 12 + 2;
    TestFrames.send(
        cluster.bootstrapServers(),
        cluster.registryUrl(),
        prefix + ".frames",
        frames,
        i -> i == 5 || i == 40);
    Map<String, String> settings = StreamTrainerTest.tinyRun(prefix, dir.resolve("keys"), 8);
    writeProbe(dir.resolve("probe-images"), dir.resolve("probe-labels"), 40);
    settings.put(
        TrainerConfig.PROBE_CONFIG,
        dir.resolve("probe-images") + "," + dir.resolve("probe-labels"));
    settings.put(TrainerConfig.PROBE_BANK_CONFIG, "32");
    settings.put(TrainerConfig.PROBE_QUERIES_CONFIG, "8");
    TrainerConfig config = TrainerConfig.of(settings);

    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicReference<StreamTrainer> trainer = new AtomicReference<>();
    TrainerMetrics metrics =
        new TrainerMetrics(
            registry,
            config.modelName(),
            () -> trainer.get() == null ? Map.of() : trainer.get().consumerLag());
    try (StandardMeters jvm = StandardMeters.bindTo(registry);
        MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry, metrics.health())) {
      Scrape before = Scrape.get(server.uri(), MetricsServer.READY_PATH);
      assertEquals(
          503,
          before.status(),
          "not ready before the trainer restored its state: " + before.text());
      trainer.set(
          new StreamTrainer(config, cluster.bootstrapServers(), cluster.registryUrl(), metrics));
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread run =
          new Thread(
              () -> {
                try {
                  trainer.get().run();
                } catch (Throwable t) {
                  failed.set(t);
                }
              },
              "trainer-under-test");
      run.start();
      boolean sawReady = false;
      while (run.isAlive() && !sawReady) {
        sawReady = Scrape.get(server.uri(), MetricsServer.READY_PATH).status() == 200;
        Thread.sleep(50);
      }
      run.join(300_000);
      assertEquals(null, failed.get());
      assertTrue(sawReady, "/health/ready answered 200 while the trainer ran");

      Scrape m = Scrape.metrics(server.port());
      assertEquals(200, m.status());
      assertTrue(m.contentType().startsWith("text/plain; version=0.0.4"), m.contentType());
      String model = "model=\"" + config.modelName() + "\"";
      assertEquals(8, m.value("mocostream_trainer_steps_total", model), m.text());
      assertEquals(8, m.value("mocostream_trainer_step", model));
      assertEquals(64, m.value("mocostream_trainer_images_total", model));
      assertEquals(2, m.value("mocostream_trainer_version", model));
      assertEquals(
          2,
          m.value("mocostream_trainer_dead_letters_total", model, "reason=\"unsupported_type\""));
      assertEquals(
          0, m.value("mocostream_trainer_dead_letters_total", model, "reason=\"undecodable\""));
      assertEquals(
          0, m.value("mocostream_trainer_steps_skipped_total", model, "reason=\"non_finite\""));
      double loss = m.value("mocostream_trainer_loss", model);
      assertTrue(loss > 0 && loss < 20, "InfoNCE loss " + loss);
      double knn = m.value("mocostream_trainer_knn_top1", model);
      assertTrue(knn >= 0 && knn <= 1, "kNN top-1 " + knn);
      assertTrue(m.value("mocostream_trainer_images_per_second", model) > 0);
      assertEquals(2, m.value("mocostream_trainer_commit_seconds_count", model));
      assertEquals(2, m.value("mocostream_trainer_publish_seconds_count", model));
      assertTrue(
          m.value("mocostream_trainer_publish_seconds_sum", model)
              <= m.value("mocostream_trainer_commit_seconds_sum", model),
          "publishing is a part of the commit");
      assertTrue(m.hasType("mocostream_trainer_commit_seconds", "histogram"), m.text());
      // Queue: K = 32 slots, filled after 4 steps of 8; its oldest key is from a few steps back.
      assertEquals(32, m.value("mocostream_trainer_queue_keys", model), m.text());
      assertEquals(32, m.value("mocostream_trainer_queue_capacity_keys", model));
      double age = m.value("mocostream_trainer_queue_age_steps", model);
      assertTrue(age >= 3 && age <= 4, "queue age " + age + " steps");
      // Lag: every frames partition has a series, and together they are the frames the run did not
      // train.
      var lag = m.values("mocostream_trainer_consumer_lag_records", model);
      assertEquals(2, lag.size(), m.text());
      assertEquals(frames - 64 - 2, lag.stream().mapToDouble(Double::doubleValue).sum(), 0.0);
      assertTrue(m.value("process_resident_memory_bytes") > 100e6, "libtorch's RSS");
      assertTrue(
          m.values("jvm_memory_used_bytes").stream().mapToDouble(Double::doubleValue).sum()
              > 0); // a pool may be 0
    }
  }

  /** IDX files of {@code n} 16×16 stripe images in the four classes {@link TestFrames} draws. */
  static void writeProbe(Path images, Path labels, int n) throws IOException {
    try (var img = new DataOutputStream(Files.newOutputStream(images));
        var lab = new DataOutputStream(Files.newOutputStream(labels))) {
      img.writeInt(0x00000803);
      img.writeInt(n);
      img.writeInt(16);
      img.writeInt(16);
      lab.writeInt(0x00000801);
      lab.writeInt(n);
      java.util.SplittableRandom random = new java.util.SplittableRandom(3);
      for (int i = 0; i < n; i++) {
        int label = i % 4;
        for (int y = 0; y < 16; y++) {
          for (int x = 0; x < 16; x++) {
            int v =
                switch (label) {
                  case 0 -> y;
                  case 1 -> x;
                  case 2 -> x + y;
                  default -> x - y + 16;
                };
            img.writeByte((v % 4 < 2 ? 200 : 40) + random.nextInt(30));
          }
        }
        lab.writeByte(label);
      }
    }
  }
}
