package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: downgrade on restart. Version 1's records stay validly signed forever; re-appended byte
 * for byte after version 2 they are the newest manifest by offset, and a freshly started subscriber
 * took it. Now a persisted high-water mark keeps a restarted subscriber at version 2 or above, and
 * a maximum age protects one that has no mark yet.
 */
@ExtendWith(KafkaClusterExtension.class)
class DowngradeReplayAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();
  @TempDir Path dir;

  @Test
  void reappendingVersionOneDoesNotMakeARestartedSubscriberServeIt(KafkaCluster cluster)
      throws Exception {
    String topic = AttackKit.topic(cluster, "downgrade");
    EncoderPublisher publisher = new EncoderPublisher(topic, trainer, 1000);
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      publisher.publishInOwnTransaction(
          producer, Drafts.draft("m", 1), Drafts.payload(2500, 1)); // created 2023
      publisher.publishInOwnTransaction(
          producer, Drafts.draft("m", 2).setCreatedAt(Instant.now()), Drafts.payload(2500, 2));
    }
    Path marks = dir.resolve("high-water.properties");
    AttackKit.Recorder first = new AttackKit.Recorder();
    try (VersionSubscriber sub = subscriber(cluster, topic, first).highWaterMarks(marks).build()) {
      AttackKit.pollUntil(sub, () -> first.hasAccepted(2), Duration.ofSeconds(60));
    }

    AttackKit.sendRaw(
        cluster, topic, "m", firstRecords(cluster, topic, 4)); // v1: 3 chunks and its manifest

    AttackKit.Recorder control = new AttackKit.Recorder();
    try (VersionSubscriber sub = subscriber(cluster, topic, control).build()) {
      AttackKit.pollUntil(sub, () -> !control.accepted.isEmpty(), Duration.ofSeconds(60));
      assertEquals(
          List.of(1L),
          control.acceptedVersions(),
          "without a mark or an age limit the replay is served");
    }

    AttackKit.Recorder restarted = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        subscriber(cluster, topic, restarted).highWaterMarks(marks).build()) {
      AttackKit.pollUntil(
          sub,
          () -> restarted.hasAccepted(2) && !restarted.refused.isEmpty(),
          Duration.ofSeconds(60));
      assertEquals(List.of(2L), restarted.acceptedVersions(), restarted.toString());
      assertEquals(Reason.NOT_NEWER, restarted.refused.get(0).reason(), restarted.toString());
      assertEquals(1, restarted.refused.get(0).version());
    }

    AttackKit.Recorder aged = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        subscriber(cluster, topic, aged).maxAge(Duration.ofDays(1)).build()) {
      AttackKit.pollUntil(
          sub, () -> aged.hasAccepted(2) && !aged.refused.isEmpty(), Duration.ofSeconds(60));
      // The stale replay could not set the start; read after version 2 it is refused as not newer.
      assertEquals(List.of(2L), aged.acceptedVersions(), aged.toString());
      assertEquals(Reason.NOT_NEWER, aged.refused.get(0).reason(), aged.toString());
    }
    AttackKit.Recorder agedFromStart = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        subscriber(cluster, topic, agedFromStart)
            .maxAge(Duration.ofDays(1))
            .startPosition(io.mocostream.encoder.client.StartPosition.EARLIEST)
            .build()) {
      AttackKit.pollUntil(sub, () -> agedFromStart.hasAccepted(2), Duration.ofSeconds(60));
      assertEquals(Reason.STALE, agedFromStart.refused.get(0).reason(), agedFromStart.toString());
      assertEquals(1, agedFromStart.refused.get(0).version());
    }
  }

  private VersionSubscriber.Builder subscriber(
      KafkaCluster cluster, String topic, AttackKit.Recorder rec) {
    return VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
        .topic(topic)
        .trustedKeys(trainer.trustedKeys())
        .listener(rec);
  }

  /** The first {@code n} committed records' values, byte for byte. */
  static List<byte[]> firstRecords(KafkaCluster cluster, String topic, int n) {
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
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < n && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (out.size() < n) {
            out.add(r.value());
          }
        }
      }
    }
    assertEquals(n, out.size());
    return out;
  }
}
