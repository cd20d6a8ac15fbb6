package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.TrainerCheckpoint;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: replay as a false witness. Replay took the last manifest on the model topic with the
 * version's number and the first checkpoint for it, neither verified, so anyone who can write to
 * those topics decided what the rebuild was compared with and with which configuration it ran: a
 * genuine version could be made to "fail" its replay, or a forged one to "pass". Now the version's
 * manifest must verify under the trusted keys, and only a checkpoint whose configuration hashes to
 * that manifest's fingerprint is used.
 */
@ExtendWith(KafkaClusterExtension.class)
class ForgedReplayInputsAttackTest {

  @Test
  void replayIsHeldToTheSignedVersionAndItsConfiguration(KafkaCluster cluster, @TempDir Path keys)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("forged-replay");
    cluster.createTopic(prefix + ".frames", 1);
    TestFrames.send(
        cluster.bootstrapServers(), cluster.registryUrl(), prefix + ".frames", 8 * 4, i -> false);
    TrainerAttackKit.Published published = new TrainerAttackKit.Published();
    Map<String, String> settings = StreamTrainerTest.tinyRun(prefix, keys, 4);
    TrainerConfig run = TrainerConfig.of(settings);
    assertEquals(
        1,
        new StreamTrainer(run, cluster.bootstrapServers(), cluster.registryUrl(), published).run());
    EncoderVersion genuine = published.versions.get(0);
    String model = run.modelName();
    TrustedKeys trust = ModelSigning.loadOrCreate(keys).trustedKeys();
    ModelSigner stranger = ModelSigning.generate();

    // After the genuine manifest of version 1: the same with a made-up digest under the trainer's
    // key id (zero signature), and again signed by the attacker's own key.
    String madeUp = "0".repeat(64);
    EncoderVersion zeroSignature =
        EncoderVersion.newBuilder(genuine)
            .setPayloadSha256(madeUp)
            .setSignature(ByteBuffer.wrap(new byte[64]))
            .build();
    EncoderVersion ownKey =
        EncoderVersion.newBuilder(genuine)
            .setPayloadSha256(madeUp)
            .setKeyId(stranger.keyId())
            .setSignature(ByteBuffer.allocate(0))
            .build();
    ownKey.setSignature(ByteBuffer.wrap(stranger.signManifest(ownKey)));
    // A version 9 that only the attacker signed.
    EncoderVersion nine =
        EncoderVersion.newBuilder(ownKey)
            .setVersion(9)
            .setSignature(ByteBuffer.allocate(0))
            .build();
    nine.setSignature(ByteBuffer.wrap(stranger.signManifest(nine)));
    String versions = run.versionsTopic();
    TrainerAttackKit.send(
        cluster,
        versions,
        List.of(
            Map.entry(model, TrainerAttackKit.avro(cluster, versions, zeroSignature)),
            Map.entry(model, TrainerAttackKit.avro(cluster, versions, ownKey)),
            Map.entry(model, TrainerAttackKit.avro(cluster, versions, nine))));

    // On a state topic the replay is pointed at: first a checkpoint for version 1 with another
    // configuration (another seed), then the genuine checkpoint's manifest.
    TrainerCheckpoint real;
    try (KafkaConsumer<String, Object> c =
        Checkpoints.avroReader(cluster.bootstrapServers(), cluster.registryUrl())) {
      real =
          Checkpoints.readManifests(c, run.stateTopic(), model, Duration.ofSeconds(30)).stream()
              .filter(m -> m.getEncoderVersion() == 1)
              .findFirst()
              .orElseThrow();
    }
    String json = real.getConfigJson().toString();
    String otherSeed = json.replaceFirst("\"moco\\.seed\"\\s*:\\s*\"7\"", "\"moco.seed\":\"8\"");
    assertNotEquals(json, otherSeed, "the seed is in the checkpoint's configuration: " + json);
    TrainerCheckpoint forged = TrainerCheckpoint.newBuilder(real).setConfigJson(otherSeed).build();
    String state = prefix + ".state-replayed";
    cluster.createTopic(state, 1);
    TrainerAttackKit.send(
        cluster,
        state,
        List.of(
            Map.entry(model + "/checkpoint/1", TrainerAttackKit.avro(cluster, state, forged)),
            Map.entry(model + "/checkpoint/1", TrainerAttackKit.avro(cluster, state, real))));
    Map<String, String> topics = new java.util.HashMap<>(settings);
    topics.put(TrainerConfig.STATE_TOPIC_CONFIG, state);

    Replayer.Result result =
        Replayer.replay(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            TrainerConfig.of(topics),
            1,
            trust,
            null);
    assertEquals(genuine.getPayloadSha256().toString(), result.publishedSha256());
    assertTrue(result.match(), "rebuilt with the signed configuration: " + result.line());

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Replayer.replay(
                    cluster.bootstrapServers(), cluster.registryUrl(), run, 9, trust, null));
    assertTrue(refused.getMessage().contains("UNKNOWN_KEY"), refused.getMessage());
  }
}
