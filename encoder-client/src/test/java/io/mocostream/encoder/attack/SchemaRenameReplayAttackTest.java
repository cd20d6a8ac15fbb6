package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.EncoderPublisher.Prepared;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: the signature did not bind the writer schema. Register a copy of {@code EncoderVersion}
 * with {@code version} and {@code createdAt} swapped (both longs) under any subject, and re-send an
 * old signed manifest, byte for byte, under the new schema id: read with the renamed schema it said
 * version ≈ 1.7·10¹², verified, and every later real version was refused as not newer. Now the
 * signing input holds the writer schema's fingerprint.
 */
@ExtendWith(KafkaClusterExtension.class)
class SchemaRenameReplayAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void anOldManifestResentUnderARenamedSchemaIsRefusedAndLaterVersionsStillArrive(
      KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "schema-rename");
    EncoderPublisher publisher = new EncoderPublisher(topic, trainer, 1000);
    Prepared v1 = publisher.prepare(Drafts.draft("m", 1), Drafts.payload(2500, 1));
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      producer.beginTransaction();
      publisher.send(producer, v1);
      producer.commitTransaction();
    }
    String swapped =
        EncoderVersion.getClassSchema()
            .toString()
            .replace("\"name\":\"version\"", "\"name\":\"@V@\"")
            .replace("\"name\":\"createdAt\"", "\"name\":\"version\"")
            .replace("\"name\":\"@V@\"", "\"name\":\"createdAt\"");
    Schema renamed = new Schema.Parser().parse(swapped);
    int renamedId = AttackKit.register(cluster, "innocent-looking-subject", renamed);

    List<byte[]> replay = new ArrayList<>();
    for (EncoderChunk c : v1.chunks()) {
      replay.add(AttackKit.serialize(cluster, topic, c)); // the same chunks: the SHA-256 matches
    }
    byte[] original = AttackKit.serialize(cluster, topic, v1.manifest());
    replay.add(AttackKit.withSchemaId(original, renamedId));
    AttackKit.sendRaw(cluster, topic, "m", replay);

    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .startPosition(StartPosition.EARLIEST)
            .listener(rec)
            .build()) {
      AttackKit.pollUntil(
          sub, () -> rec.hasAccepted(1) && !rec.refused.isEmpty(), Duration.ofSeconds(60));
      RefusedVersion r = rec.refused.get(0);
      assertEquals(Reason.BAD_SIGNATURE, r.reason(), rec.toString());
      assertTrue(
          r.version() > 1_000_000_000_000L,
          "read with the renamed schema the version is the time: " + r);
      try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
        publisher.publishInOwnTransaction(producer, Drafts.draft("m", 2), Drafts.payload(2500, 2));
      }
      AttackKit.pollUntil(sub, () -> rec.hasAccepted(2), Duration.ofSeconds(60));
      assertEquals(List.of(1L, 2L), rec.acceptedVersions(), rec.toString());
    }
  }
}
