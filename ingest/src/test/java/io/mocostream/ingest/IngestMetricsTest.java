package io.mocostream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.metrics.MetricsEndpoint;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.Scrape;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ingest --metrics-port} against a real broker: the command's run loop, scraped over HTTP.
 */
@ExtendWith(KafkaClusterExtension.class)
class IngestMetricsTest {

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void countsRecordsDuplicatesAndDeadLettersByReasonAndIsReadyWhileRunning(
      KafkaCluster cluster, @TempDir Path dir) throws Exception {
    String run = "im" + System.nanoTime();
    String in = run + ".raw";
    cluster.createTopic(in, 2);
    IngestOptions options =
        IngestOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl())
            .withTopics(in, run + ".train", run + ".dlq")
            .withApplication(run + "-ingest", dir, 1, 1)
            .withStreamsConfig(Map.of(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100"));
    int port = freePort();
    URI base = URI.create("http://127.0.0.1:" + port);
    AtomicInteger exit = new AtomicInteger(-1);
    Thread command =
        new Thread(
            () -> {
              try {
                exit.set(
                    IngestCommand.run(
                        options,
                        MetricsEndpoint.on(port),
                        new PrintStream(OutputStream.nullOutputStream())));
              } catch (InterruptedException e) {
                exit.set(130);
              }
            },
            "ingest-under-test");
    command.start();
    try {
      awaitStatus(base, "/health/ready", 200, Duration.ofSeconds(120));

      // 30 frames of two sources: 3 garbage records, 4 exact repeats of the source's previous
      // frame.
      int garbage = 0;
      int repeats = 0;
      int total = 30;
      try (var producer =
              new KafkaProducer<byte[], byte[]>(
                  Map.of(
                      ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                      cluster.bootstrapServers(),
                      ProducerConfig.ACKS_CONFIG,
                      "all"),
                  new ByteArraySerializer(),
                  new ByteArraySerializer());
          KafkaAvroSerializer serializer = new KafkaAvroSerializer()) {
        serializer.configure(
            Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
        SplittableRandom rnd = new SplittableRandom(1);
        byte[][] previous = new byte[2][];
        for (int i = 0; i < total; i++) {
          String source = "cam-" + (i % 2);
          byte[] value;
          if (i % 10 == 3) {
            value = ("garbage " + i).getBytes(StandardCharsets.UTF_8);
            garbage++;
          } else {
            byte[] px = new byte[28 * 28];
            for (int k = 0; k < px.length; k++) {
              px[k] = (byte) rnd.nextInt(256);
            }
            if (i % 7 == 6 && previous[i % 2] != null) {
              px = previous[i % 2];
              repeats++;
            }
            previous[i % 2] = px;
            value =
                serializer.serialize(
                    in,
                    IngestTopologyTest.frame(source, i, ContentType.RAW_GREY, px, 28, 28, null));
          }
          producer.send(new ProducerRecord<>(in, source.getBytes(StandardCharsets.UTF_8), value));
        }
      }

      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      Scrape m = Scrape.metrics(port);
      while (m.value("mocostream_ingest_records_in_total") < total
          && System.nanoTime() < deadline) {
        Thread.sleep(200);
        m = Scrape.metrics(port);
      }
      assertEquals(200, m.status());
      assertTrue(m.contentType().startsWith("text/plain; version=0.0.4"), m.contentType());
      String app = "application=\"" + run + "-ingest\"";
      assertEquals(total, m.value("mocostream_ingest_records_in_total", app), m.text());
      assertEquals(
          garbage, m.value("mocostream_ingest_dead_letters_total", app, "reason=\"deserialize\""));
      assertEquals(
          0, m.value("mocostream_ingest_dead_letters_total", app, "reason=\"undecodable\""));
      assertEquals(repeats, m.value("mocostream_ingest_duplicates_dropped_total", app));
      assertEquals(total - garbage - repeats, m.value("mocostream_ingest_records_out_total", app));
      assertTrue(m.value("mocostream_ingest_bytes_out_total", app) > 0);
      assertEquals(1, m.value("mocostream_ready"));
      // Kafka Streams' own metrics, bound by Micrometer: the stream threads' processing counts.
      assertTrue(
          m.text().contains("kafka_stream_thread_process_total"), "Kafka Streams metrics missing");
      assertTrue(m.value("process_resident_memory_bytes") > 0);
      assertEquals(200, Scrape.get(base, "/health/live").status());
    } finally {
      command.interrupt();
      command.join(60_000);
    }
    assertEquals(130, exit.get(), "the command stopped on interrupt");
  }

  static void awaitStatus(URI base, String path, int status, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
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
    throw new AssertionError(
        path + " answered " + last + ", not " + status + ", within " + timeout);
  }
}
