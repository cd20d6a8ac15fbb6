package io.mocostream.serving.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.Embedding;
import io.mocostream.serving.TestModels;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * embed-stream as a real Kafka Streams application (exactly_once_v2) on the real broker: frames in,
 * embeddings out with the version that computed them, a new version published mid-stream taking
 * over without a restart.
 */
@ExtendWith(KafkaClusterExtension.class)
class EmbedStreamCommandTest {
  private static final String MODEL = "stream";

  @Test
  void embedsFramesAndPicksUpANewVersionWithoutRestart(KafkaCluster cluster, @TempDir Path dir)
      throws Exception {
    String in = "stream.frames." + System.nanoTime();
    cluster.createTopic(in, 2);
    try (TestModels models = new TestModels(cluster, "stream", dir)) {
      models.publish(MODEL, 1);
      EmbedOptions options =
          EmbedOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
              .withTopics(in, in + ".embeddings", in + ".dlq")
              .withModelTopic(models.topic, models.trustFile)
              .withApplication("embed-test-" + System.nanoTime(), dir.resolve("state"), 1)
              .withReadyTimeout(Duration.ofSeconds(60))
              .withStreamsConfig(Map.of("commit.interval.ms", "200"));
      ByteArrayOutputStream printed = new ByteArrayOutputStream();
      try (EmbedStreamCommand.Running app =
              EmbedStreamCommand.start(options, new PrintStream(printed, true));
          KafkaProducer<String, Object> producer = producer(cluster);
          KafkaConsumer<String, Object> consumer = consumer(cluster, options.outTopic());
          KafkaConsumer<String, Object> dlqConsumer = consumer(cluster, options.dlqTopic())) {
        KafkaStreams streams = app.streams();
        assertTrue(
            printed.toString(StandardCharsets.UTF_8).contains("version 1, exactly_once_v2"),
            printed.toString());

        for (int i = 0; i < 6; i++) {
          producer.send(
              new ProducerRecord<>(
                  in,
                  "cam-" + i % 3,
                  Frames.frame(
                      "cam-" + i % 3, i / 3, ContentType.RAW_GREY, Frames.grey(16, i), 16, 16)));
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
        producer.flush();
        List<ConsumerRecord<String, Object>> first = poll(consumer, 6);
        for (ConsumerRecord<String, Object> r : first) {
          Embedding e = (Embedding) r.value();
          assertEquals(1, e.getVersion());
          assertEquals(r.key(), e.getSourceId(), "the frame's key is kept");
          assertEquals(TestModels.ARCH.featureDim(), e.getVector().size());
        }
        List<ConsumerRecord<String, Object>> dead = poll(dlqConsumer, 1);
        assertEquals("cam-bad", dead.get(0).key());
        assertEquals(
            "UNDECODABLE",
            new String(
                dead.get(0).headers().lastHeader(DeadLetter.REASON_HEADER).value(),
                StandardCharsets.UTF_8));

        // A new version, mid-stream.
        models.publish(MODEL, 2);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (app.encoder().current().orElseThrow().version() != 2) {
          assertTrue(System.nanoTime() < deadline, "version 2 not served within 30 s");
          Thread.sleep(20);
        }
        for (int i = 6; i < 12; i++) {
          producer.send(
              new ProducerRecord<>(
                  in,
                  "cam-" + i % 3,
                  Frames.frame(
                      "cam-" + i % 3, i / 3, ContentType.RAW_GREY, Frames.grey(16, i), 16, 16)));
        }
        producer.flush();
        List<ConsumerRecord<String, Object>> second = poll(consumer, 6);
        for (ConsumerRecord<String, Object> r : second) {
          assertEquals(
              2,
              ((Embedding) r.value()).getVersion(),
              "frames after the swap are embedded by version 2");
        }
        assertEquals(
            KafkaStreams.State.RUNNING, streams.state(), "the same application, never restarted");
        assertEquals(1, app.encoder().swapCount());

        // Exactly once: every frame once, nothing more committed.
        Set<String> positions = new HashSet<>();
        List<ConsumerRecord<String, Object>> all = new ArrayList<>(first);
        all.addAll(second);
        for (ConsumerRecord<String, Object> r : all) {
          Embedding e = (Embedding) r.value();
          assertTrue(
              positions.add(e.getFramePartition() + "@" + e.getFrameOffset()), "duplicate " + e);
        }
        assertTrue(consumer.poll(Duration.ofSeconds(1)).isEmpty(), "no further embeddings");
        assertEquals(Map.of(1L, 6L, 2L, 6L), app.counters().embeddedByVersion());
        assertTrue(
            EmbedStreamCommand.progressLine(app)
                .startsWith("embedded=12 rejected=1 version=2 swaps=1"),
            EmbedStreamCommand.progressLine(app));
      }
    }
  }

  @Test
  void aMissingInputTopicIsNamed(KafkaCluster cluster, @TempDir Path dir) throws Exception {
    try (TestModels models = new TestModels(cluster, "missing", dir)) {
      EmbedOptions options =
          EmbedOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
              .withTopics("no.such.frames", "x.out", "x.dlq")
              .withModelTopic(models.topic, models.trustFile);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  EmbedStreamCommand.start(options, new PrintStream(new ByteArrayOutputStream())));
      assertTrue(e.getMessage().contains("no.such.frames"), e.getMessage());
    }
  }

  private static List<ConsumerRecord<String, Object>> poll(
      KafkaConsumer<String, Object> consumer, int n) {
    List<ConsumerRecord<String, Object>> out = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (out.size() < n) {
      assertTrue(
          System.nanoTime() < deadline, "only " + out.size() + " of " + n + " records within 60 s");
      consumer.poll(Duration.ofMillis(200)).forEach(out::add);
    }
    return out;
  }

  private static KafkaProducer<String, Object> producer(KafkaCluster cluster) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    config.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl());
    return new KafkaProducer<>(
        config, new StringSerializer(), configured(new KafkaAvroSerializer(), cluster));
  }

  private static KafkaConsumer<String, Object> consumer(KafkaCluster cluster, String topic) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    config.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + topic);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl());
    config.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true);
    KafkaAvroDeserializer values = new KafkaAvroDeserializer();
    values.configure(config, false);
    KafkaConsumer<String, Object> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), values);
    consumer.subscribe(List.of(topic));
    return consumer;
  }

  private static KafkaAvroSerializer configured(KafkaAvroSerializer s, KafkaCluster cluster) {
    s.configure(
        Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
    return s;
  }
}
