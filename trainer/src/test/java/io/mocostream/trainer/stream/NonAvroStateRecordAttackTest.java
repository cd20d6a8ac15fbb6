package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: one record on {@code trainer.state} that is not Avro (or names a schema id the registry
 * does not have) made the restore scan throw, and the trainer could not start at all. Now such a
 * record is logged and skipped.
 */
@ExtendWith(KafkaClusterExtension.class)
class NonAvroStateRecordAttackTest {

  @Test
  void garbageOnTheStateTopicDoesNotStopTheTrainerFromStarting(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("garbage-state");
    cluster.createTopic(prefix + ".frames", 1);
    TestFrames.send(
        cluster.bootstrapServers(), cluster.registryUrl(), prefix + ".frames", 8 * 4, i -> false);
    TrainerConfig config = TrainerConfig.of(StreamTrainerTest.tinyRun(prefix, keys, 4));
    cluster.createTopic(config.stateTopic(), 1);
    TrainerAttackKit.send(
        cluster,
        config.stateTopic(),
        List.of(
            Map.entry(
                config.modelName() + "/chunk-0",
                "not avro at all".getBytes(StandardCharsets.UTF_8)),
            Map.entry(
                config.modelName() + "/checkpoint/9",
                new byte[] {0, 0x7f, 0x7f, 0x7f, 0x7f, 1, 2})));
    TrainerAttackKit.Published published = new TrainerAttackKit.Published();
    assertEquals(
        1,
        new StreamTrainer(config, cluster.bootstrapServers(), cluster.registryUrl(), published)
            .run());
    assertEquals(List.of(1L), published.numbers());
  }
}
