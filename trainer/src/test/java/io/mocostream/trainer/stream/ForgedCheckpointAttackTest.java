package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.schemas.StateChunk;
import io.mocostream.schemas.TopicPosition;
import io.mocostream.schemas.TrainerCheckpoint;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: the trainer as a signing oracle. Checkpoints carried only a SHA-256 anyone can recompute,
 * so a forged state with a higher step (here: the trainer's own state, re-sent as step 1000 with
 * rewound positions) was restored on restart and came out as the next validly signed version. Now
 * checkpoints are signed by the trainer's key and a forged one is passed over: the restart resumes
 * from the newest checkpoint that verifies.
 */
@ExtendWith(KafkaClusterExtension.class)
class ForgedCheckpointAttackTest {

  @Test
  void aForgedHigherCheckpointIsPassedOverAndTrainingResumesFromTheSignedOne(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("forged-ckpt");
    cluster.createTopic(prefix + ".frames", 1);
    TestFrames.send(
        cluster.bootstrapServers(), cluster.registryUrl(), prefix + ".frames", 8 * 8, i -> false);
    TrainerAttackKit.Published published = new TrainerAttackKit.Published();
    TrainerConfig first = TrainerConfig.of(StreamTrainerTest.tinyRun(prefix, keys, 4));
    assertEquals(
        1,
        new StreamTrainer(first, cluster.bootstrapServers(), cluster.registryUrl(), published)
            .run());

    // The attacker reads the real checkpoint (the topic is readable too) and re-sends it as step
    // 1000, version 50,
    // positions rewound to 0, with a made-up signature under the trainer's key id, and again signed
    // by their own.
    Checkpoints.Restored real;
    try (KafkaConsumer<String, Object> c =
        Checkpoints.avroReader(cluster.bootstrapServers(), cluster.registryUrl())) {
      real =
          Checkpoints.readLatest(
                  c,
                  first.stateTopic(),
                  first.modelName(),
                  ModelSigning.loadOrCreate(keys).trustedKeys(),
                  Duration.ofSeconds(30))
              .orElseThrow();
    }
    String model = first.modelName();
    TrainerCheckpoint.Builder forged =
        TrainerCheckpoint.newBuilder(real.manifest())
            .setStep(1000)
            .setEncoderVersion(50)
            .setPositions(List.of(new TopicPosition(prefix + ".frames", 0, 0L)))
            .setCreatedAt(Instant.now())
            .setPayloadSha256(Sha256.hex(real.state()))
            .setSignature(ByteBuffer.wrap(new byte[64]));
    TrainerAttackKit.send(
        cluster,
        first.stateTopic(),
        List.of(
            Map.entry(
                model + "/chunk-0",
                TrainerAttackKit.avro(
                    cluster,
                    first.stateTopic(),
                    new StateChunk(model, 1000L, 0, 1, ByteBuffer.wrap(real.state())))),
            Map.entry(
                model + "/checkpoint/1000",
                TrainerAttackKit.avro(cluster, first.stateTopic(), forged.build()))));
    var stranger = ModelSigning.generate();
    TrainerCheckpoint ownKey =
        forged
            .setStep(1001)
            .setKeyId(stranger.keyId())
            .setSignature(ByteBuffer.allocate(0))
            .build();
    ownKey.setSignature(ByteBuffer.wrap(stranger.signRecord(Checkpoints.DOMAIN, ownKey)));
    TrainerAttackKit.send(
        cluster,
        first.stateTopic(),
        List.of(
            Map.entry(
                model + "/chunk-0",
                TrainerAttackKit.avro(
                    cluster,
                    first.stateTopic(),
                    new StateChunk(model, 1001L, 0, 1, ByteBuffer.wrap(real.state())))),
            Map.entry(
                model + "/checkpoint/1001",
                TrainerAttackKit.avro(cluster, first.stateTopic(), ownKey))));

    TrainerConfig second = TrainerConfig.of(StreamTrainerTest.tinyRun(prefix, keys, 8));
    assertEquals(
        2,
        new StreamTrainer(second, cluster.bootstrapServers(), cluster.registryUrl(), published)
            .run());
    assertEquals(List.of(1L, 2L), published.numbers());
    assertEquals(
        8,
        published.versions.get(1).getStep(),
        "resumed at the signed step 4, not the forged 1000");
    assertEquals(1L, published.versions.get(1).getParentVersion());
    assertTrue(
        published.versions.get(1).getLineage().getRanges().get(0).getFromOffset() > 0,
        "continued from the signed positions, not the forged rewind: "
            + published.versions.get(1).getLineage());
    assertEquals(
        published.versions.get(0).getRunId(),
        published.versions.get(1).getRunId(),
        "one run, resumed");
  }
}
