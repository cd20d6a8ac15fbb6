package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
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
 * Threat: unsigned chunks are held until their manifest arrives; up to 1 GiB per partition was held
 * before any manifest was seen. Now all chunks held, every partition and version together, stay
 * within one byte budget (here set small; by default one maximal payload, then three versions of
 * the size last accepted).
 */
@ExtendWith(KafkaClusterExtension.class)
class UnsignedChunkFloodAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void chunksThatNeverGetAManifestStayWithinTheBudget(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "flood");
    long budget = 20_000;
    List<byte[]> flood = new ArrayList<>();
    for (int i = 0; i < 200; i++) { // 200 KB of chunks of 100 versions, no manifest
      flood.add(
          AttackKit.serialize(
              cluster,
              topic,
              new EncoderChunk(
                  "m", 1000L + i / 2, i % 2, 3, ByteBuffer.wrap(Drafts.payload(1000, i)))));
    }
    AttackKit.sendRaw(cluster, topic, "m", flood);
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      new EncoderPublisher(topic, trainer, 1000)
          .publishInOwnTransaction(producer, Drafts.draft("m", 1), Drafts.payload(2500, 1));
    }
    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .startPosition(StartPosition.EARLIEST)
            .maxPendingBytes(budget)
            .listener(rec)
            .build()) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!rec.hasAccepted(1)) {
        assertTrue(System.nanoTime() < deadline, rec.toString());
        sub.poll(Duration.ofMillis(100));
        assertTrue(sub.stats().pendingBytes() <= budget, sub.stats().toString());
      }
      assertEquals(100, rec.refusedFor(Reason.MALFORMED), "every flooded version is reported");
    }
  }
}
