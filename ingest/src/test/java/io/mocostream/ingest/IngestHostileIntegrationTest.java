package io.mocostream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.client.RegistryClientConfig;
import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.hostile.HostileFrames;
import io.mocostream.testkit.hostile.HostileFrames.Case;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole hostile suite ({@link HostileFrames}) through a running ingest application against the
 * real broker and registry: every bad case in the dead-letter topic exactly once with one of its
 * promised reasons, no valid case refused, and every raw offset in the training topic, in the
 * dead-letter topic, or in the dedup stores' committed drop counts, exactly once. Ingest is still
 * running at the end.
 */
@ExtendWith(KafkaClusterExtension.class)
class IngestHostileIntegrationTest {
  private static final int PARTITIONS = 2;

  @Test
  void everyHostileCaseIsTrainedOrDeadLetteredOnceWithItsReason(
      KafkaCluster cluster, @TempDir Path dir) throws Exception {
    String run = "hostile" + System.nanoTime();
    String in = run + ".raw";
    cluster.createTopic(in, PARTITIONS, Map.of("max.message.bytes", String.valueOf(17 << 20)));
    HostileFrames.SchemaIds ids;
    try (SchemaRegistryClient client =
        new SchemaRegistryClient(RegistryClientConfig.of(cluster.registryUrl()))) {
      ids = HostileFrames.SchemaIds.register(client, in, run + ".other-value");
    }
    List<Case> cases = HostileFrames.cases(ids, HostileFrames.DEFAULT_SEED);
    assertTrue(cases.size() >= 250, "at least 250 cases, got " + cases.size());

    IngestOptions options =
        IngestOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl())
            .withTopics(in, run + ".train", run + ".dlq")
            .withApplication(run, dir, 1, 1);
    try (IngestCommand.Running ingest =
        IngestCommand.start(options, new PrintStream(OutputStream.nullOutputStream()))) {
      Map<String, Case> byOrigin = new HashMap<>();
      try (KafkaProducer<byte[], byte[]> producer = producer(cluster)) {
        for (Case c : cases) {
          RecordMetadata md = producer.send(new ProducerRecord<>(in, c.key(), c.value())).get();
          byOrigin.put(DeadLetter.origin(in, md.partition(), md.offset()), c);
        }
      }

      List<String> wrong = new ArrayList<>();
      Map<String, Integer> seen = new HashMap<>();
      Map<String, Integer> reasons = new TreeMap<>();
      int trained = 0;
      int dead = 0;
      long dropped = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
      try (KafkaConsumer<byte[], byte[]> consumer = consumer(cluster)) {
        List<TopicPartition> parts = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
          parts.add(new TopicPartition(options.outTopic(), p));
          parts.add(new TopicPartition(options.dlqTopic(), p));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        while (true) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            String origin;
            Case c;
            if (r.topic().equals(options.dlqTopic())) {
              dead++;
              origin = IngestScalingIntegrationTest.header(r, DeadLetter.ORIGIN_HEADER);
              c = byOrigin.get(origin);
              String reason = IngestScalingIntegrationTest.header(r, DeadLetter.REASON_HEADER);
              reasons.merge(reason, 1, Integer::sum);
              if (c == null) {
                wrong.add("dead letter of an unknown origin " + origin);
                continue;
              }
              if (!c.expected().contains(reason)) {
                wrong.add(
                    c.name()
                        + ": expected "
                        + c.expected()
                        + ", dead-lettered as "
                        + reason
                        + " ("
                        + IngestScalingIntegrationTest.header(r, DeadLetter.MESSAGE_HEADER)
                        + ")");
              }
              assertArrayEquals(c.key(), r.key(), c.name() + ": the key byte for byte");
              assertArrayEquals(c.value(), r.value(), c.name() + ": the value byte for byte");
              assertEquals(
                  DeadLetter.INGEST,
                  IngestScalingIntegrationTest.header(r, DeadLetter.STAGE_HEADER));
            } else {
              trained++;
              ImageFrame f = IngestTopologyTest.readFrame(cluster, r);
              origin = f.getAttributes().get(Normalizer.ORIGIN_ATTRIBUTE);
              c = byOrigin.get(origin);
              if (c == null) {
                wrong.add("training frame of an unknown origin " + origin);
                continue;
              }
              if (!c.accepted()) {
                wrong.add(c.name() + ": expected " + c.expected() + ", but trained");
              }
              assertTrue(
                  f.getWidth() <= 4 * IngestOptions.DEFAULT_SIZE
                      && f.getHeight() <= 4 * IngestOptions.DEFAULT_SIZE,
                  c.name() + ": " + f.getWidth() + "x" + f.getHeight());
            }
            seen.merge(origin, 1, Integer::sum);
          }
          if (trained + dead + dropped >= cases.size()) {
            dropped = ingest.dedupCounts().values().stream().mapToLong(v -> v[1]).sum();
            break;
          }
          if (trained + dead > 0) {
            try {
              dropped = ingest.dedupCounts().values().stream().mapToLong(v -> v[1]).sum();
            } catch (RuntimeException rebalancing) {
              dropped = 0;
            }
          }
          if (System.nanoTime() > deadline) {
            fail(
                "after 300 s: "
                    + trained
                    + " trained, "
                    + dead
                    + " dead letters, "
                    + dropped
                    + " dropped of "
                    + cases.size()
                    + ": "
                    + ingest.counters());
          }
        }
      }
      seen.forEach(
          (origin, n) -> {
            if (n != 1) {
              wrong.add(byOrigin.get(origin) + " written " + n + " times");
            }
          });
      long bad = cases.stream().filter(c -> !c.accepted()).count();
      System.out.printf(
          "hostile suite through ingest: %d cases, %d trained, %d dropped near-duplicates, %d dead"
              + " letters by reason %s%n",
          cases.size(), trained, dropped, dead, reasons);
      assertEquals(List.of(), wrong, wrong.size() + " cases had another outcome");
      assertEquals(bad, dead, "every bad case dead-lettered exactly once");
      assertEquals(
          cases.size() - bad, trained + dropped, "every valid case trained or counted as a drop");
      assertEquals(
          cases.size(), seen.size() + dropped, "every raw offset accounted for exactly once");
      assertTrue(ingest.failure().isEmpty(), "ingest still running");
      assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, ingest.streams().state());
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(KafkaCluster cluster) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 32 << 20);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaCluster cluster) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
