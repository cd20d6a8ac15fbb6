package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.StepSegment;
import io.mocostream.schemas.TrainerStep;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(KafkaClusterExtension.class)
class StreamTrainerTest {

  static Map<String, String> tinyRun(String prefix, Path keys, long maxSteps) {
    Map<String, String> s = new HashMap<>();
    s.put(TrainerConfig.MODEL_NAME_CONFIG, prefix + "-model");
    s.put(TrainerConfig.FRAMES_TOPIC_CONFIG, prefix + ".frames");
    s.put(TrainerConfig.DLQ_TOPIC_CONFIG, prefix + ".dlq");
    s.put(TrainerConfig.STEPS_TOPIC_CONFIG, prefix + ".steps");
    s.put(TrainerConfig.STATE_TOPIC_CONFIG, prefix + ".state");
    s.put(TrainerConfig.VERSIONS_TOPIC_CONFIG, prefix + ".versions");
    s.put(TrainerConfig.BATCH_SIZE_CONFIG, "8");
    s.put(
        TrainerConfig.MAX_WAIT_MS_CONFIG,
        "60000"); // full batches only: the composition is the same on every run
    s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "4");
    s.put(TrainerConfig.MAX_STEPS_CONFIG, String.valueOf(maxSteps));
    s.put(TrainerConfig.KEYS_DIR_CONFIG, keys.toString());
    s.put(TrainerConfig.PREPARE_THREADS_CONFIG, "2");
    s.put(
        "moco.architecture",
        "resnet18-narrow,width=16,channels=1,size=16"); // 16+: see ConvolutionGradientTest
    s.put("moco.queue.size", "32");
    s.put("moco.key.momentum", "0.99");
    s.put("moco.lr.warmup.steps", "2");
    s.put("moco.seed", "7");
    s.put("moco.shuffle.bn.groups", "2");
    return s;
  }

  @Test
  void trainsCommitsResumesAndReplaysBitExactly(KafkaCluster cluster, @TempDir Path keys)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("st");
    cluster.createTopic(prefix + ".frames", 2);
    // 8 steps of 8 usable frames + 2 broken frames, then 4 more steps for the resumed run.
    TestFrames.send(
        cluster.bootstrapServers(),
        cluster.registryUrl(),
        prefix + ".frames",
        8 * 12 + 2,
        i -> i == 5 || i == 40);

    List<EncoderVersion> published = new ArrayList<>();
    TrainerListener listener =
        new TrainerListener() {
          @Override
          public void onPublished(EncoderVersion version) {
            published.add(version);
          }
        };
    Map<String, String> withProbe = tinyRun(prefix, keys, 8);
    withProbe.put(
        TrainerConfig.PROBE_CONFIG,
        "fashion-mnist"); // not part of the computation: replay ignores it
    withProbe.put(TrainerConfig.PROBE_BANK_CONFIG, "100");
    withProbe.put(TrainerConfig.PROBE_QUERIES_CONFIG, "50");
    TrainerConfig first = TrainerConfig.of(withProbe);
    long v =
        new StreamTrainer(first, cluster.bootstrapServers(), cluster.registryUrl(), listener).run();
    assertEquals(2, v);
    assertEquals(List.of(1L, 2L), published.stream().map(EncoderVersion::getVersion).toList());
    for (EncoderVersion p : published) { // kNN on both features, each a fraction of the 50 queries
      for (Double knn : List.of(p.getMetrics().getKnnTop1(), p.getMetrics().getKnnTop1Head())) {
        assertTrue(
            knn != null && knn >= 0 && knn <= 1 && Math.abs(knn * 50 - Math.round(knn * 50)) < 1e-9,
            "kNN " + knn + " of version " + p.getVersion());
      }
    }
    assertEquals(8, published.get(1).getStep());
    assertEquals(5, published.get(1).getLineage().getFirstStep());

    // A second run picks up at step 8 from the checkpoint and the committed offsets.
    TrainerConfig second = TrainerConfig.of(tinyRun(prefix, keys, 12));
    assertEquals(
        3,
        new StreamTrainer(second, cluster.bootstrapServers(), cluster.registryUrl(), listener)
            .run());
    assertEquals(12, published.get(2).getStep());
    assertEquals(2L, published.get(2).getParentVersion());

    // Step log: steps 1..12 once each, and every consumed offset in exactly one step.
    List<TrainerStep> steps = readSteps(cluster, prefix + ".steps");
    assertEquals(12, steps.size());
    Map<String, List<long[]>> ranges = new TreeMap<>();
    int rejected = 0;
    for (int i = 0; i < steps.size(); i++) {
      assertEquals(i + 1, steps.get(i).getStep());
      rejected += steps.get(i).getRejected();
      assertEquals(8, steps.get(i).getBatchSize());
      for (StepSegment s : steps.get(i).getSegments()) {
        ranges
            .computeIfAbsent(s.getTopic() + "-" + s.getPartition(), k -> new ArrayList<>())
            .add(new long[] {s.getFromOffset(), s.getToOffset()});
      }
    }
    assertEquals(2, rejected);
    long covered = 0;
    for (List<long[]> list : ranges.values()) {
      list.sort((a, b) -> Long.compare(a[0], b[0]));
      long expectedFrom = 0;
      for (long[] r : list) {
        assertEquals(expectedFrom, r[0], "gap or overlap in the step log at offset " + r[0]);
        expectedFrom = r[1];
      }
      covered += expectedFrom;
    }
    assertEquals(8 * 12 + 2, covered);

    // The two broken frames are on the dead-letter topic with their reason.
    List<String> reasons = new ArrayList<>();
    try (var c =
        new KafkaConsumer<>(
            Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.GROUP_ID_CONFIG,
                prefix + "-dlq-check",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      c.subscribe(List.of(prefix + ".dlq"));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (reasons.size() < 2 && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          reasons.add(
              new String(
                  r.headers().lastHeader(DeadLetter.REASON_HEADER).value(),
                  StandardCharsets.UTF_8));
        }
      }
    }
    assertEquals(List.of("UNSUPPORTED_TYPE", "UNSUPPORTED_TYPE"), reasons);

    // Replay from the step log rebuilds both the uninterrupted version and the resumed one bit for
    // bit.
    for (long version : List.of(2L, 3L)) {
      Replayer.Result result = replay(cluster, second, version, keys);
      assertTrue(result.match(), result.line());
      assertEquals(published.get((int) version - 1).getPayloadSha256(), result.replayedSha256());
    }
    assertFalse(published.get(1).getPayloadSha256().equals(published.get(2).getPayloadSha256()));
  }

  @Test
  void withTheReplayBufferResumesTheSameBufferAndReplaysBitExactly(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("rb");
    // One partition: batches form the same way in every run, so an uninterrupted run can be
    // compared bit for bit.
    cluster.createTopic(prefix + ".frames", 1);
    TestFrames.send(
        cluster.bootstrapServers(),
        cluster.registryUrl(),
        prefix + ".frames",
        8 * 10 + 1,
        i -> i == 9);
    List<EncoderVersion> published = new ArrayList<>();
    TrainerListener listener =
        new TrainerListener() {
          @Override
          public void onPublished(EncoderVersion version) {
            published.add(version);
          }
        };
    Map<String, String> settings = tinyRun(prefix, keys, 6);
    settings.put(TrainerConfig.REPLAY_BUFFER_SIZE_CONFIG, "20");
    long v =
        new StreamTrainer(
                TrainerConfig.of(settings),
                cluster.bootstrapServers(),
                cluster.registryUrl(),
                listener)
            .run();
    assertEquals(2, v);
    // The resumed run must restore the buffer (20 frames, read back from the topic) to continue
    // bit-exactly.
    settings.put(TrainerConfig.MAX_STEPS_CONFIG, "10");
    TrainerConfig second = TrainerConfig.of(settings);
    assertEquals(
        3,
        new StreamTrainer(second, cluster.bootstrapServers(), cluster.registryUrl(), listener)
            .run());

    List<TrainerStep> steps = readSteps(cluster, prefix + ".steps");
    assertEquals(10, steps.size());
    java.util.Set<String> consumed = new java.util.HashSet<>();
    boolean redrawn = false;
    for (TrainerStep s : steps) {
      for (StepSegment seg : s.getSegments()) {
        for (long o = seg.getFromOffset(); o < seg.getToOffset(); o++) {
          consumed.add(seg.getPartition() + "@" + o);
        }
      }
      assertEquals(s.getBatchSize(), s.getDrawn().size());
      for (StepSegment d : s.getDrawn()) {
        String at = d.getPartition() + "@" + d.getFromOffset();
        assertTrue(
            consumed.contains(at), "step " + s.getStep() + " drew " + at + " before consuming it");
        assertEquals(d.getFromOffset() + 1, d.getToOffset());
      }
      // From step 4 the buffer (20) holds more than a batch (8): the batch is a draw, not the
      // consumed frames.
      redrawn |=
          s.getStep() >= 4
              && !s.getDrawn().stream()
                  .map(d -> d.getPartition() + "@" + d.getFromOffset())
                  .toList()
                  .equals(
                      s.getSegments().stream()
                          .map(g -> g.getPartition() + "@" + g.getFromOffset())
                          .toList());
    }
    assertTrue(redrawn);

    // Replay rebuilds the first run's version and the resumed run's (which needed the restored
    // buffer) bit for bit.
    for (long version : List.of(2L, 3L)) {
      Replayer.Result result = replay(cluster, second, version, keys);
      assertTrue(result.match(), result.line());
    }

    // An uninterrupted run of the same 10 steps (new model, same frames) ends with the same weights
    // as the resumed one.
    Map<String, String> straight = new HashMap<>(settings);
    straight.put(TrainerConfig.MODEL_NAME_CONFIG, prefix + "-straight");
    straight.put(TrainerConfig.STEPS_TOPIC_CONFIG, prefix + ".steps2");
    straight.put(TrainerConfig.STATE_TOPIC_CONFIG, prefix + ".state2");
    straight.put(TrainerConfig.VERSIONS_TOPIC_CONFIG, prefix + ".versions2");
    straight.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "10");
    new StreamTrainer(
            TrainerConfig.of(straight), cluster.bootstrapServers(), cluster.registryUrl(), listener)
        .run();
    assertEquals(published.get(2).getPayloadSha256(), published.get(3).getPayloadSha256());
  }

  static List<TrainerStep> readSteps(KafkaCluster cluster, String topic) {
    KafkaAvroDeserializer values = new KafkaAvroDeserializer();
    values.configure(
        Map.of("schema.registry.url", cluster.registryUrl(), "specific.avro.reader", true), false);
    List<TrainerStep> steps = new ArrayList<>();
    try (var c =
        new KafkaConsumer<String, Object>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new StringDeserializer(),
            values)) {
      Checkpoints.scan(c, topic, Duration.ofSeconds(30), r -> steps.add((TrainerStep) r.value()));
    }
    return steps;
  }

  /** Replays {@code version}, trusting the run's own key in {@code keys}. */
  static Replayer.Result replay(KafkaCluster cluster, TrainerConfig run, long version, Path keys) {
    return Replayer.replay(
        cluster.bootstrapServers(),
        cluster.registryUrl(),
        run,
        version,
        TrustedKeys.load(keys.resolve(ModelSigning.PUBLIC_KEY_FILE)),
        null);
  }
}
