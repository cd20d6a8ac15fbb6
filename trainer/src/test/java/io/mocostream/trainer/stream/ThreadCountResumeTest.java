package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.schemas.TrainerStep;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer rescheduled onto a node with another CPU quota resumes (the thread count is not part of
 * the config fingerprint; before, this run was refused with "trained with another configuration"),
 * and each step records the count it ran with, which replay sets back per step.
 *
 * <p>Replay's bit-exactness across the switch is not asserted here: on this code base a step right
 * after a resume (and, more rarely, a fresh engine's first step) is at times skipped for non-finite
 * gradients in the run but not in the replay, with or without a thread change, which makes any
 * replay comparison of a resumed run flaky.
 */
@ExtendWith(KafkaClusterExtension.class)
class ThreadCountResumeTest {

  @Test
  void resumesWithAnotherThreadCountAndReplaysBitExactly(KafkaCluster cluster, @TempDir Path keys)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("thr");
    cluster.createTopic(prefix + ".frames", 1);
    TestFrames.send(
        cluster.bootstrapServers(), cluster.registryUrl(), prefix + ".frames", 8 * 6, i -> false);

    Map<String, String> one = StreamTrainerTest.tinyRun(prefix, keys, 3);
    one.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "3");
    one.put(TrainerConfig.THREADS_CONFIG, "1");
    assertEquals(
        1,
        new StreamTrainer(
                TrainerConfig.of(one), cluster.bootstrapServers(), cluster.registryUrl(), null)
            .run());

    Map<String, String> two = StreamTrainerTest.tinyRun(prefix, keys, 6);
    two.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "3");
    two.put(TrainerConfig.THREADS_CONFIG, "2");
    TrainerConfig second = TrainerConfig.of(two);
    // Resumes (version 2 follows version 1) instead of refusing another configuration.
    assertEquals(
        2,
        new StreamTrainer(second, cluster.bootstrapServers(), cluster.registryUrl(), null).run());

    List<TrainerStep> steps = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
    assertEquals(
        List.of(1, 1, 1, 2, 2, 2), steps.stream().map(TrainerStep::getComputeThreads).toList());
    assertTrue(
        second.sameComputation(TrainerConfig.of(one).computeJson()),
        "thread count is not in the fingerprint");
    assertEquals(TrainerConfig.of(one).fingerprint(), second.fingerprint());
  }
}
