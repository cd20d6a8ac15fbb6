package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.StepSegment;
import io.mocostream.schemas.TrainerStep;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What a model's run left on its topics as a read_committed reader sees it: the step log, the
 * encoder versions, the dead-lettered frames. The fault tests judge a crashed-and-resumed run by
 * this and nothing else.
 */
final class CommittedHistory {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private CommittedHistory() {}

  /** The model's committed step-log entries, in log order. */
  static List<TrainerStep> steps(String bootstrap, String registryUrl, String topic, String model) {
    List<TrainerStep> steps = new ArrayList<>();
    try (var c = avroConsumer(bootstrap, registryUrl)) {
      Checkpoints.scan(
          c,
          topic,
          TIMEOUT,
          r -> {
            if (r.value() instanceof TrainerStep s && s.getModelName().equals(model)) {
              steps.add(s);
            }
          });
    }
    return steps;
  }

  /** The model's committed encoder versions (manifests), in topic order. */
  static List<EncoderVersion> versions(
      String bootstrap, String registryUrl, String topic, String model) {
    List<EncoderVersion> versions = new ArrayList<>();
    try (var c = avroConsumer(bootstrap, registryUrl)) {
      Checkpoints.scan(
          c,
          topic,
          TIMEOUT,
          r -> {
            if (r.value() instanceof EncoderVersion v && v.getModelName().equals(model)) {
              versions.add(v);
            }
          });
    }
    return versions;
  }

  /**
   * The origin ({@code topic-partition@offset}) of every committed record on a dead-letter topic,
   * in order.
   */
  static List<String> deadLetterOrigins(String bootstrap, String topic) {
    List<String> origins = new ArrayList<>();
    try (var c =
        new KafkaConsumer<>(
            Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      // Raw bytes: a dead letter need not be valid Avro (that may be why it is here). Read like
      // scan() does.
      List<TopicPartition> partitions =
          c.partitionsFor(topic, TIMEOUT).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      c.assign(partitions);
      c.seekToBeginning(partitions);
      var end = c.endOffsets(partitions, TIMEOUT);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "reading " + topic + " did not reach its end within " + TIMEOUT);
        }
        c.poll(Duration.ofMillis(200))
            .forEach(
                r ->
                    origins.add(
                        new String(
                            r.headers().lastHeader(DeadLetter.ORIGIN_HEADER).value(),
                            StandardCharsets.UTF_8)));
      }
    }
    return origins;
  }

  /**
   * Asserts that the log holds steps 1..N once each, in order, and that their segments tile each
   * partition's consumed range {@code [0, end)} with no gap and no overlap: every consumed offset
   * in exactly one committed step. Returns, per {@code topic-partition}, the end of the consumed
   * range.
   */
  static Map<String, Long> assertTilesExactlyOnce(List<TrainerStep> steps, String what) {
    Map<String, List<long[]>> ranges = new TreeMap<>();
    for (int i = 0; i < steps.size(); i++) {
      assertEquals(
          i + 1,
          steps.get(i).getStep(),
          what
              + ": step log entry "
              + i
              + " is step "
              + steps.get(i).getStep()
              + " (steps must appear once each, in order)");
      for (StepSegment s : steps.get(i).getSegments()) {
        ranges
            .computeIfAbsent(s.getTopic() + "-" + s.getPartition(), k -> new ArrayList<>())
            .add(new long[] {s.getFromOffset(), s.getToOffset(), steps.get(i).getStep()});
      }
    }
    Map<String, Long> ends = new TreeMap<>();
    for (var e : ranges.entrySet()) {
      List<long[]> list = e.getValue();
      list.sort((a, b) -> Long.compare(a[0], b[0]));
      long expectedFrom = 0;
      for (long[] r : list) {
        assertEquals(
            expectedFrom,
            r[0],
            what
                + ": "
                + e.getKey()
                + " step "
                + r[2]
                + " starts at offset "
                + r[0]
                + " where the previous segment ended at "
                + expectedFrom
                + (r[0] < expectedFrom ? " (trained twice)" : " (skipped)"));
        expectedFrom = r[1];
      }
      ends.put(e.getKey(), expectedFrom);
    }
    return ends;
  }

  private static KafkaConsumer<String, Object> avroConsumer(String bootstrap, String registryUrl) {
    KafkaAvroDeserializer values = new KafkaAvroDeserializer();
    values.configure(
        Map.of("schema.registry.url", registryUrl, "specific.avro.reader", true), false);
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
            16 << 20),
        new StringDeserializer(),
        values);
  }
}
