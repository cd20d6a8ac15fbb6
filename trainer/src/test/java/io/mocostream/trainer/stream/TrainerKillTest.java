package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.TrainerStep;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kill -9 the trainer at any moment: the restart restores the last committed state and continues
 * from exactly its offsets. The trainer runs as a child JVM that is SIGKILLed at three random
 * points of a run and restarted each time; then (1) every offset of the consumed range belongs to
 * exactly one committed step, and (2) every version, the final one included, equals bit for bit
 * that of an uninterrupted run over the same steps.
 *
 * <p>The kill points come from a seeded {@link Random}; the seed is logged, and {@value
 * #SEED_PROPERTY} replays a choice (the moment a kill lands still depends on timing, which is what
 * the log's classification reports).
 */
@ExtendWith(KafkaClusterExtension.class)
class TrainerKillTest {
  private static final Logger log = LoggerFactory.getLogger(TrainerKillTest.class);
  static final String SEED_PROPERTY = "mocostream.test.kill.seed";
  private static final int STEPS = 24;
  private static final int PUBLISH_EVERY = 3;
  private static final int BATCH = 8;
  private static final int KILLS = 3;
  private static final Duration WAIT = Duration.ofSeconds(240);

  @Test
  void killedThreeTimesResumesFromItsOffsetsAndEndsBitIdentical(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    long seed = Long.getLong(SEED_PROPERTY, new Random().nextLong());
    log.info(
        "kill points from seed {} (rerun the same choice with -D{}={})", seed, SEED_PROPERTY, seed);
    String why = " [seed " + seed + "]";
    Random random = new Random(seed);

    String prefix = EmbeddedKafka.uniqueName("kill");
    String frames = prefix + ".frames";
    // One partition: with full batches only, batch k is the k-th run of 8 usable frames on every
    // run, so the
    // reference and the killed run train the same steps and their weights can be compared directly.
    cluster.createTopic(frames, 1);
    int total = BATCH * STEPS + 2;
    TestFrames.send(
        cluster.bootstrapServers(), cluster.registryUrl(), frames, total, i -> i == 5 || i == 100);

    Map<String, String> reference = settings(prefix, keys, "reference");
    Map<String, String> killed = settings(prefix, keys, "killed");

    // The uninterrupted run, in a JVM set up like the killed ones; its timing aims the kill points.
    Map<Long, TrainerChild.Event> refSteps = new TreeMap<>();
    Map<Long, String> refShaByVersion = new TreeMap<>();
    List<Long> stepGaps = new ArrayList<>();
    List<Long> commitTimes = new ArrayList<>();
    try (TrainerChild ref =
        TrainerChild.launch(
            "reference", cluster.bootstrapServers(), cluster.registryUrl(), reference)) {
      ref.await(e -> e.kind().equals("DONE"), WAIT, "end of the reference run");
      assertEquals(0, ref.waitForExit(WAIT), "reference run's exit status");
      TrainerChild.Event previous = null;
      for (TrainerChild.Event e : ref.seen) {
        if (e.kind().equals("STEP")) {
          refSteps.put(e.num(0), e);
          if (previous != null && previous.kind().equals("STEP")) {
            stepGaps.add(e.nanos() - previous.nanos());
          }
        } else if (e.kind().equals("PUBLISHED")) {
          refShaByVersion.put(e.num(0), e.fields().get(2));
          if (previous != null && previous.kind().equals("STEP")) {
            commitTimes.add(e.nanos() - previous.nanos());
          }
        }
        previous = e;
      }
    }
    assertEquals(STEPS, refSteps.size(), "reference steps");
    long stepMs = Math.max(1, median(stepGaps) / 1_000_000);
    long commitMs = Math.max(1, median(commitTimes) / 1_000_000);
    log.info(
        "reference run: {} steps, {} versions; median step {} ms, median commit {} ms",
        refSteps.size(),
        refShaByVersion.size(),
        stepMs,
        commitMs);

    // Three kills: kill k waits for a step in (6k, 6k+6], so every run makes progress past the last
    // one's
    // commit; one of them waits for a step that ends in a commit and dies within a commit's time
    // after it.
    int aimedAtCommit = random.nextInt(KILLS);
    long resumedAt = 0; // the step the running child resumed from
    Map<Long, Integer> timesTrained = new TreeMap<>();
    List<String> landings = new ArrayList<>();
    TrainerChild child =
        TrainerChild.launch("killed-1", cluster.bootstrapServers(), cluster.registryUrl(), killed);
    try {
      TrainerChild.Event first = child.await(e -> e.kind().equals("STEP"), WAIT, "first step");
      assertEquals(1, first.num(0), "first step of a new model" + why);
      for (int k = 0; k < KILLS; k++) {
        long target;
        long delayMs;
        if (k == aimedAtCommit) {
          target = 6L * k + PUBLISH_EVERY * (1 + random.nextInt(2));
          delayMs = random.nextInt((int) commitMs + 1);
        } else {
          target = 6L * k + 1 + random.nextInt(6);
          delayMs = random.nextInt((int) stepMs + 1);
        }
        long finalTarget = target;
        if (target > first.num(0)) {
          child.await(
              e -> e.kind().equals("STEP") && e.num(0) == finalTarget, WAIT, "step " + target);
        }
        Thread.sleep(delayMs);
        int status = child.kill();
        assertEquals(137, status, child.name + " should have died of SIGKILL" + why);

        long lastStep = resumedAt;
        long lastPublished = resumedAt;
        for (TrainerChild.Event e : child.seen) {
          if (e.kind().equals("STEP")) {
            lastStep = e.num(0);
          } else if (e.kind().equals("PUBLISHED")) {
            lastPublished = e.num(1);
          } else {
            throw new AssertionError(child.name + " printed " + e + " before it was killed" + why);
          }
        }
        checkSteps(child, refSteps, timesTrained, why);
        boolean inCommit = lastStep % PUBLISH_EVERY == 0 && lastPublished < lastStep;
        String landing =
            child.name
                + ": kill "
                + (k + 1)
                + " aimed at step "
                + target
                + " + "
                + delayMs
                + " ms"
                + (k == aimedAtCommit ? " (aimed at a commit)" : "")
                + " landed "
                + (inCommit
                    ? "DURING the commit of step " + lastStep
                    : "between commits, after step "
                        + lastStep
                        + " (last commit at step "
                        + lastPublished
                        + ")");

        child =
            TrainerChild.launch(
                "killed-" + (k + 2), cluster.bootstrapServers(), cluster.registryUrl(), killed);
        first = child.await(e -> e.kind().equals("STEP"), WAIT, "first step after restart");
        long resumed = first.num(0) - 1;
        landing += "; the restart resumed from step " + resumed;
        log.info(landing);
        landings.add(landing);
        // A kill inside a commit may land before or after the broker committed it: either is a
        // consistent state.
        assertTrue(
            resumed == lastPublished || (inCommit && resumed == lastStep),
            child.name
                + " resumed from step "
                + resumed
                + ", but the last commit printed before the kill was step "
                + lastPublished
                + (inCommit ? " (or " + lastStep + ", whose commit the kill interrupted)" : "")
                + why);
        resumedAt = resumed;
      }
      child.await(e -> e.kind().equals("DONE"), WAIT, "end of the last run");
      assertEquals(0, child.waitForExit(WAIT), "last run's exit status");
      checkSteps(child, refSteps, timesTrained, why);
    } finally {
      child.close();
    }
    long redone = timesTrained.values().stream().filter(n -> n > 1).count();
    log.info("kill points:\n  {}", String.join("\n  ", landings));
    log.info(
        "{} steps were trained more than once across the kills, each time with identical loss bits",
        redone);

    // (1) Every consumed offset in exactly one committed step, and the same steps as the
    // uninterrupted run.
    String bootstrap = cluster.bootstrapServers();
    List<TrainerStep> steps =
        CommittedHistory.steps(
            bootstrap,
            cluster.registryUrl(),
            prefix + ".steps",
            killed.get(TrainerConfig.MODEL_NAME_CONFIG));
    assertEquals(STEPS, steps.size(), "committed steps of the killed model" + why);
    assertEquals(
        Map.of(frames + "-0", (long) total),
        CommittedHistory.assertTilesExactlyOnce(steps, "killed run" + why));
    List<TrainerStep> refLog =
        CommittedHistory.steps(
            bootstrap,
            cluster.registryUrl(),
            prefix + ".steps",
            reference.get(TrainerConfig.MODEL_NAME_CONFIG));
    for (int i = 0; i < STEPS; i++) {
      assertEquals(
          refLog.get(i).getSegments(),
          steps.get(i).getSegments(),
          "composition of step " + (i + 1) + why);
    }
    // Rejected frames were dead-lettered once each, despite the aborted transactions that also
    // carried them.
    assertEquals(
        List.of(frames + "-0@5", frames + "-0@100"),
        CommittedHistory.deadLetterOrigins(bootstrap, prefix + ".dlq.killed"),
        "dead letters" + why);

    // (2) Each committed version equals the uninterrupted run's, bit for bit; the final one
    // included.
    List<EncoderVersion> versions =
        CommittedHistory.versions(
            bootstrap,
            cluster.registryUrl(),
            prefix + ".versions",
            killed.get(TrainerConfig.MODEL_NAME_CONFIG));
    assertEquals(
        STEPS / PUBLISH_EVERY, versions.size(), "committed versions of the killed model" + why);
    for (int i = 0; i < versions.size(); i++) {
      EncoderVersion v = versions.get(i);
      assertEquals(i + 1, v.getVersion(), "version order" + why);
      assertEquals(
          (long) PUBLISH_EVERY * (i + 1), v.getStep(), "step of version " + v.getVersion() + why);
      assertEquals(
          refShaByVersion.get(v.getVersion()),
          v.getPayloadSha256(),
          "weights of version " + v.getVersion() + " against the uninterrupted run" + why);
    }
    assertEquals(STEPS, versions.get(versions.size() - 1).getStep());
  }

  /**
   * Every step a child printed has the reference's loss bits and image count (a redone step is the
   * same step).
   */
  private static void checkSteps(
      TrainerChild child,
      Map<Long, TrainerChild.Event> refSteps,
      Map<Long, Integer> timesTrained,
      String why) {
    for (TrainerChild.Event e : child.seen) {
      if (e.kind().equals("STEP")) {
        TrainerChild.Event ref = refSteps.get(e.num(0));
        assertEquals(
            ref.fields(),
            e.fields(),
            child.name
                + " step "
                + e.num(0)
                + " (loss bits, images) against the "
                + "uninterrupted run"
                + why);
        timesTrained.merge(e.num(0), 1, Integer::sum);
      }
    }
  }

  private static Map<String, String> settings(String prefix, Path keys, String model) {
    Map<String, String> s = new HashMap<>(StreamTrainerTest.tinyRun(prefix, keys, STEPS));
    // Another model name on the same topics: the config fingerprint leaves the name out, so both
    // runs compute
    // the same thing; each keeps its own dead letters so that duplicates would show.
    s.put(TrainerConfig.MODEL_NAME_CONFIG, prefix + "-" + model);
    s.put(TrainerConfig.DLQ_TOPIC_CONFIG, prefix + ".dlq." + model);
    s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, String.valueOf(PUBLISH_EVERY));
    s.put(TrainerConfig.BATCH_SIZE_CONFIG, String.valueOf(BATCH));
    return s;
  }

  private static long median(List<Long> values) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }
}
