package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: one chunk claiming {@code count=1000000000} made the subscriber allocate a {@code
 * ByteBuffer[count]} (4-8 GB of references) before anything was verified; the OutOfMemoryError
 * ended its thread silently. Now chunks are kept by index in a map, charged against one byte
 * budget, and nothing is sized by a count.
 */
@ExtendWith(KafkaClusterExtension.class)
class ChunkCountBombAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void aChunkClaimingABillionChunksAllocatesNothingAndTheRealVersionArrives(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "count-bomb");
    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .listener(rec)
            .build()
            .start()) {
      AttackKit.sendRaw(
          cluster,
          topic,
          "m",
          List.of(
              AttackKit.serialize(
                  cluster,
                  topic,
                  new EncoderChunk("m", 7L, 0, 1_000_000_000, ByteBuffer.wrap(new byte[10]))),
              AttackKit.serialize(
                  cluster,
                  topic,
                  new EncoderChunk(
                      "m", 7L, 999_999_999, 1_000_000_000, ByteBuffer.wrap(new byte[10]))),
              AttackKit.serialize(
                  cluster,
                  topic,
                  new EncoderChunk("m", 8L, 0, Integer.MAX_VALUE, ByteBuffer.wrap(new byte[10])))));
      try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
        new EncoderPublisher(topic, trainer, 1000)
            .publishInOwnTransaction(producer, Drafts.draft("m", 1), Drafts.payload(2500, 1));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!rec.hasAccepted(1) && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertEquals(List.of(1L), rec.acceptedVersions(), rec + ", last error " + sub.lastError());
      VersionSubscriber.Stats stats = sub.stats();
      assertTrue(stats.refused(Reason.MALFORMED) >= 2, "the bombs are reported: " + rec);
      assertEquals(0, stats.pendingBytes(), stats.toString());
      assertTrue(sub.lastError().isEmpty(), "no error reached the loop: " + sub.lastError());
    }
  }
}
