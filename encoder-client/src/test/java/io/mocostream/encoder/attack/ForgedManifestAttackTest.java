package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.EncoderPublisher.Prepared;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: a forged manifest, newest on the topic, chooses where a subscriber starts. Before the
 * fix, one manifest claiming version 10⁹ made every subscriber started afterwards position on it,
 * refuse it, and then ignore every real version below 10⁹ for good. Now only a manifest that
 * verifies may set the start.
 */
@ExtendWith(KafkaClusterExtension.class)
class ForgedManifestAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void aForgedNewestManifestNeitherSetsTheStartNorHidesLaterVersions(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "forged-manifest");
    EncoderPublisher publisher = new EncoderPublisher(topic, trainer, 1000);
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      publisher.publishInOwnTransaction(producer, Drafts.draft("m", 1), Drafts.payload(2500, 1));
      publisher.publishInOwnTransaction(producer, Drafts.draft("m", 2), Drafts.payload(2500, 2));
    }
    // The attacker: a version 10⁹ claiming the trainer's key id with a made-up signature, then one
    // signed by a
    // key of their own; chunks and all, the newest records on the topic.
    List<byte[]> forged = new ArrayList<>();
    Prepared claimsTrainer =
        new EncoderPublisher(topic, ModelSigning.generate(), 1000)
            .prepare(Drafts.draft("m", 1_000_000_000L), Drafts.payload(1500, 3));
    claimsTrainer.manifest().setKeyId(trainer.keyId());
    claimsTrainer.manifest().setSignature(ByteBuffer.wrap(new byte[64]));
    Prepared ownKey =
        new EncoderPublisher(topic, ModelSigning.generate(), 1000)
            .prepare(Drafts.draft("m", 2_000_000_000L), Drafts.payload(1500, 4));
    for (Prepared p : List.of(claimsTrainer, ownKey)) {
      for (EncoderChunk c : p.chunks()) {
        forged.add(AttackKit.serialize(cluster, topic, c));
      }
      forged.add(AttackKit.serialize(cluster, topic, p.manifest()));
    }
    AttackKit.sendRaw(cluster, topic, "m", forged);

    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .listener(rec)
            .build()) {
      AttackKit.pollUntil(
          sub, () -> rec.hasAccepted(2) && rec.refused.size() >= 2, Duration.ofSeconds(60));
      assertEquals(List.of(2L), rec.acceptedVersions(), rec.toString());
      assertEquals(1, rec.refusedFor(Reason.BAD_SIGNATURE), rec.toString());
      assertEquals(1, rec.refusedFor(Reason.UNKNOWN_KEY), rec.toString());
      // The forged numbers hide nothing: the trainer's next version is accepted.
      try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
        publisher.publishInOwnTransaction(producer, Drafts.draft("m", 3), Drafts.payload(2500, 5));
      }
      AttackKit.pollUntil(sub, () -> rec.hasAccepted(3), Duration.ofSeconds(60));
      assertEquals(List.of(2L, 3L), rec.acceptedVersions(), rec.toString());
      assertFalse(rec.refused.stream().anyMatch(r -> r.version() == 3), rec.toString());
    }
  }
}
