package io.mocostream.serving.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.live.CurrentVersion;
import io.mocostream.serving.TestModels;
import io.mocostream.serving.http.EmbeddingService;
import io.mocostream.serving.http.ServeCommand;
import io.mocostream.serving.http.ServeOptions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: downgrade replay against a restarted {@code serve}. Version 1's records stay validly
 * signed forever; re-appended byte for byte after version 2, they are the newest version on the
 * model topic by offset, and a freshly started service entered there and served version 1. Attack:
 * serve v2 with a high-water file, stop, replay v1, restart with the same file. Defence: the
 * persisted high-water mark ({@code --high-water}) refuses v1 as not newer; the restarted service
 * serves v2 and {@code /v1/models} never reports version 1. A control run without the file shows
 * the replay is real (it serves version 1).
 */
@ExtendWith(KafkaClusterExtension.class)
class ServeDowngradeReplayAttackTest {
  private static final String MODEL = "downgraded";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  @Test
  void replayedVersionOneIsNeverServedAfterARestartWithAHighWaterFile(
      KafkaCluster cluster, @TempDir Path dir) throws Exception {
    try (TestModels models = new TestModels(cluster, "downgrade", dir)) {
      models.publish(MODEL, 1);
      List<byte[]> v1 =
          committedValues(cluster, models.topic); // v1's chunks and manifest, as written
      models.publish(MODEL, 2);
      Path marks = dir.resolve("state").resolve("high-water.properties");
      ServeOptions withMarks =
          ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
              .withModelTopic(models.topic, models.trustFile)
              .withListen("127.0.0.1", 0)
              .withVersionFloor(marks, null);

      try (ServeCommand.Running serve = ServeCommand.start(withMarks)) {
        assertTrue(serve.encoder().awaitReady(Duration.ofSeconds(60)), "version 2 not served");
        waitFor(
            () -> serve.encoder().current().map(CurrentVersion::version).orElse(0L) == 2,
            "version 2 serving");
        assertEquals(2, servedVersion(serve));
      }

      sendRaw(cluster, models.topic, v1); // the attack: v1 again, byte for byte, newest by offset

      ServeOptions withoutMarks = withMarks.withVersionFloor(null, null);
      try (ServeCommand.Running control = ServeCommand.start(withoutMarks)) {
        assertTrue(control.encoder().awaitReady(Duration.ofSeconds(60)), "control: nothing served");
        assertEquals(
            1, servedVersion(control), "control: without a high-water file the replay is served");
      }

      try (ServeCommand.Running restarted = ServeCommand.start(withMarks)) {
        // Until the replay has been read and refused, every /v1/models answer must be v2 or not
        // ready.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (restarted.encoder().stats().refused(Reason.NOT_NEWER) == 0
            && System.nanoTime() < deadline) {
          long v = servedVersion(restarted);
          assertTrue(v == 0 || v == 2, "restarted serve reports version " + v);
          Thread.sleep(100);
        }
        assertEquals(
            1,
            restarted.encoder().stats().refused(Reason.NOT_NEWER),
            "the replayed version 1 was read and refused as not newer: "
                + restarted.encoder().stats());
        assertTrue(
            restarted.encoder().awaitReady(Duration.ofSeconds(60)),
            "version 2 not served after restart");
        JsonNode models1 = models(restarted);
        assertEquals(2, models1.path("current").path("version").asLong(), models1.toString());
        assertEquals(
            1,
            models1.path("versions").path("refused").path("NOT_NEWER").asLong(),
            models1.toString());
        assertEquals(1, models1.path("versions").path("accepted").asLong(), models1.toString());
      }
    }
  }

  /** The version {@code /v1/models} reports serving; 0 when not ready. */
  private long servedVersion(ServeCommand.Running serve) throws Exception {
    JsonNode m = models(serve);
    return m.path("ready").asBoolean() ? m.path("current").path("version").asLong() : 0;
  }

  private JsonNode models(ServeCommand.Running serve) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(serve.service().uri().resolve(EmbeddingService.MODELS_PATH))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body());
  }

  private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(50);
    }
  }

  /**
   * Every committed record value on partition 0 of {@code topic}, byte for byte, in offset order.
   */
  private static List<byte[]> committedValues(KafkaCluster cluster, String topic) {
    List<byte[]> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (c.position(tp) < end) {
        assertTrue(System.nanoTime() < deadline, "could not read " + topic + " to offset " + end);
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          assertEquals(MODEL, r.key());
          out.add(r.value());
        }
      }
    }
    assertTrue(
        out.size() >= 2, "version 1 has chunks and a manifest, read " + out.size() + " records");
    return out;
  }

  /** Appends {@code values} under the model's key, as any writer to the topic can (no ACLs). */
  private static void sendRaw(KafkaCluster cluster, String topic, List<byte[]> values) {
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (byte[] v : values) {
        p.send(new ProducerRecord<>(topic, MODEL, v));
      }
      p.flush();
    }
  }
}
