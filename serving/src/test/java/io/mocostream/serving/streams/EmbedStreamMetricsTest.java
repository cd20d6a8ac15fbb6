package io.mocostream.serving.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.metrics.MetricsEndpoint;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.serving.TestModels;
import io.mocostream.serving.http.ServeCommand;
import io.mocostream.serving.http.ServeOptions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.Scrape;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code embed-stream --metrics-port} and {@code serve --metrics-port} against a real broker,
 * scraped over HTTP.
 */
@ExtendWith(KafkaClusterExtension.class)
class EmbedStreamMetricsTest {
  private static final String MODEL = "metered";

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void embedStreamCountsEmbeddingsAndDeadLettersAndIsReadyWithAVersion(
      KafkaCluster cluster, @TempDir Path dir) throws Exception {
    String in = "metered.frames." + System.nanoTime();
    cluster.createTopic(in, 2);
    try (TestModels models = new TestModels(cluster, "metered", dir)) {
      EmbedOptions options =
          EmbedOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
              .withTopics(in, in + ".embeddings", in + ".dlq")
              .withModelTopic(models.topic, models.trustFile)
              .withApplication("embed-metrics-" + System.nanoTime(), dir.resolve("state"), 1)
              .withStreamsConfig(Map.of("commit.interval.ms", "200"));
      int port = freePort();
      URI base = URI.create("http://127.0.0.1:" + port);
      AtomicInteger exit = new AtomicInteger(-1);
      Thread command =
          new Thread(
              () -> {
                try {
                  exit.set(
                      EmbedStreamCommand.run(
                          options,
                          MetricsEndpoint.on(port),
                          new PrintStream(OutputStream.nullOutputStream())));
                } catch (InterruptedException e) {
                  exit.set(130);
                }
              },
              "embed-stream-under-test");
      command.start();
      try {
        // Live at once; not ready while no version exists.
        awaitStatus(base, "/health/live", 200);
        assertEquals(503, Scrape.get(base, "/health/ready").status());
        models.publish(MODEL, 1);
        awaitStatus(base, "/health/ready", 200);

        try (var producer =
            new KafkaProducer<String, Object>(
                Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                    KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()),
                new StringSerializer(),
                serializer(cluster))) {
          for (int i = 0; i < 5; i++) {
            producer.send(
                new ProducerRecord<>(
                    in,
                    "cam-" + i % 2,
                    Frames.frame(
                        "cam-" + i % 2, i / 2, ContentType.RAW_GREY, Frames.grey(16, i), 16, 16)));
          }
          producer.send(
              new ProducerRecord<>(
                  in,
                  "cam-bad",
                  Frames.frame(
                      "cam-bad",
                      0,
                      ContentType.PNG,
                      new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 1, 2, 3},
                      null,
                      null)));
        }
        String app = "application=\"" + options.applicationId() + "\"";
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        Scrape m = Scrape.metrics(port);
        while ((m.value("mocostream_embed_records_out_total", app) < 5
                || m.value("mocostream_embed_dead_letters_total", app, "reason=\"undecodable\"")
                    < 1)
            && System.nanoTime() < deadline) {
          Thread.sleep(200);
          m = Scrape.metrics(port);
        }
        assertEquals(5, m.value("mocostream_embed_records_out_total", app), m.text());
        assertEquals(
            1, m.value("mocostream_embed_dead_letters_total", app, "reason=\"undecodable\""));
        assertEquals(0, m.value("mocostream_embed_dead_letters_total", app, "reason=\"empty\""));
        String model = "model=\"" + MODEL + "\"";
        assertEquals(1, m.value("mocostream_encoder_version", model));
        assertEquals(5, m.value("mocostream_encoder_embeddings_total", model));
        assertEquals(
            0,
            m.value(
                "mocostream_encoder_versions_refused_total", model, "reason=\"BAD_SIGNATURE\""));
        assertEquals(1, m.value("mocostream_ready"));
        assertTrue(
            m.text().contains("kafka_stream_thread_process_total"),
            "Kafka Streams metrics missing");
        assertTrue(m.value("mocostream_process_native_memory_bytes") >= 0);
      } finally {
        command.interrupt();
        command.join(60_000);
      }
      assertEquals(130, exit.get());
    }
  }

  @Test
  void serveHasTheSameMetricsAndProbesOnItsMetricsPort(KafkaCluster cluster, @TempDir Path dir)
      throws Exception {
    try (TestModels models = new TestModels(cluster, "servemetrics", dir)) {
      ServeOptions options =
          ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
              .withListen("127.0.0.1", 0)
              .withModelTopic(models.topic, models.trustFile);
      int port = freePort();
      try (ServeCommand.Running running = ServeCommand.start(options, MetricsEndpoint.on(port))) {
        URI base = URI.create("http://127.0.0.1:" + port);
        assertEquals(503, Scrape.get(base, "/health/ready").status());
        models.publish(MODEL, 3);
        awaitStatus(base, "/health/ready", 200);
        Scrape m = Scrape.metrics(port);
        assertTrue(m.contentType().startsWith("text/plain; version=0.0.4"), m.contentType());
        assertEquals(3, m.value("mocostream_encoder_version", "model=\"" + MODEL + "\""), m.text());
        assertEquals(1, m.value("mocostream_ready"));
        assertTrue(m.value("process_resident_memory_bytes") > 0);
        // The same registry as the service port's /metrics: its request counter counts this
        // scrape's predecessor.
        Scrape servicePort = Scrape.get(running.service().uri(), "/metrics");
        assertEquals(3, servicePort.value("mocostream_encoder_version", "model=\"" + MODEL + "\""));
        assertTrue(
            servicePort.text().contains("mocostream_ready"), "one registry behind both ports");
      }
    }
  }

  private static KafkaAvroSerializer serializer(KafkaCluster cluster) {
    KafkaAvroSerializer s = new KafkaAvroSerializer();
    s.configure(
        Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
    return s;
  }

  static void awaitStatus(URI base, String path, int status) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    int last = -1;
    while (System.nanoTime() < deadline) {
      try {
        last = Scrape.get(base, path).status();
        if (last == status) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError(path + " answered " + last + ", not " + status);
  }
}
