package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: versions restarted at 1 when the trainer's state was lost (or when every checkpoint was
 * forged and passed over), and running subscribers refused them all as not newer, silently. Now a
 * trainer that starts afresh continues above the newest version on the model topic that verifies
 * under its own key (forged higher numbers are ignored), and each manifest names its run.
 */
@ExtendWith(KafkaClusterExtension.class)
class LostTrainerStateAttackTest {

  @Test
  void aFreshStartContinuesAboveTheNewestSignedVersion(KafkaCluster cluster, @TempDir Path keys)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("lost-state");
    cluster.createTopic(prefix + ".frames", 1);
    TestFrames.send(
        cluster.bootstrapServers(), cluster.registryUrl(), prefix + ".frames", 8 * 8, i -> false);
    TrainerAttackKit.Published published = new TrainerAttackKit.Published();
    Map<String, String> settings = StreamTrainerTest.tinyRun(prefix, keys, 4);
    TrainerConfig first = TrainerConfig.of(settings);
    assertEquals(
        1,
        new StreamTrainer(first, cluster.bootstrapServers(), cluster.registryUrl(), published)
            .run());

    // A forged manifest claiming version 10⁶ under the trainer's key id: it must not set the
    // numbering either.
    EncoderVersion forged =
        EncoderVersion.newBuilder(published.versions.get(0))
            .setVersion(1_000_000)
            .setSignature(ByteBuffer.wrap(new byte[64]))
            .build();
    TrainerAttackKit.send(
        cluster,
        first.versionsTopic(),
        List.of(
            Map.entry(
                first.modelName(), TrainerAttackKit.avro(cluster, first.versionsTopic(), forged))));

    // The state is lost: the same model, key and model topic, an empty state topic.
    settings.put(TrainerConfig.STATE_TOPIC_CONFIG, prefix + ".state-lost");
    TrainerConfig second = TrainerConfig.of(settings);
    assertEquals(
        2,
        new StreamTrainer(second, cluster.bootstrapServers(), cluster.registryUrl(), published)
            .run());
    assertEquals(List.of(1L, 2L), published.numbers());
    assertNotNull(published.versions.get(0).getRunId());
    assertNotEquals(
        published.versions.get(0).getRunId(), published.versions.get(1).getRunId(), "a new run");
  }
}
