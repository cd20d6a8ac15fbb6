package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.StartPosition;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: one foreign chunk among a real version's chunks orphaned it: only one version could be
 * pending per partition, so a chunk of another version threw the real chunks away. Now chunks are
 * pending per (partition, version); the foreign ones are refused when the real manifest verifies.
 */
@ExtendWith(KafkaClusterExtension.class)
class InterleavedForeignChunkAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void foreignChunksBetweenARealVersionsChunksDoNotOrphanIt(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "interleaved");
    byte[] payload = Drafts.payload(3500, 1);
    Prepared real =
        new EncoderPublisher(topic, trainer, 1000).prepare(Drafts.draft("m", 1), payload);
    List<byte[]> records = new ArrayList<>();
    for (EncoderChunk c : real.chunks()) {
      records.add(AttackKit.serialize(cluster, topic, c));
      // After each real chunk, the attacker's: another version, and the same version number from
      // "elsewhere".
      records.add(
          AttackKit.serialize(
              cluster,
              topic,
              new EncoderChunk("m", 99L, c.getIndex(), 4, ByteBuffer.wrap(new byte[1000]))));
    }
    records.add(AttackKit.serialize(cluster, topic, real.manifest()));
    AttackKit.sendRaw(cluster, topic, "m", records);

    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .startPosition(StartPosition.EARLIEST)
            .listener(rec)
            .build()) {
      AttackKit.pollUntil(sub, () -> rec.hasAccepted(1), Duration.ofSeconds(60));
      assertArrayEquals(payload, rec.accepted.get(0).payload());
      assertEquals(1, rec.refusedFor(Reason.MALFORMED), "version 99's chunks are reported: " + rec);
      assertEquals(99, rec.refused.get(0).version());
      assertEquals(0, sub.stats().pendingBytes());
    }
  }
}
