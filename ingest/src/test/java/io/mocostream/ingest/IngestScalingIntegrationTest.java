package io.mocostream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ingest instances on a four-partition topic against the real broker and registry, the second
 * joining while the first is busy (a rebalance mid-stream): every raw offset ends up exactly once
 * in frames.train, in frames.dlq, or in the dedup stores' committed drop counts.
 */
@ExtendWith(KafkaClusterExtension.class)
class IngestScalingIntegrationTest {
  private static final int SOURCES = 8;
  private static final int PER_SOURCE = 60;

  @Test
  void twoInstancesOnFourPartitionsProcessEveryFrameExactlyOnce(
      KafkaCluster cluster, @TempDir Path dir) throws Exception {
    String run = "scale" + System.nanoTime();
    String in = run + ".raw";
    cluster.createTopic(in, 4);
    IngestOptions options =
        IngestOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl())
            .withTopics(in, run + ".train", run + ".dlq")
            .withApplication(run + "-ingest", dir.resolve("a"), 1, 1)
            .withStreamsConfig(Map.of(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100"));
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());

    int expectedBad = 0;
    int expectedDuplicates = 0;
    int total = 0;
    try (KafkaProducer<byte[], byte[]> producer = producer(cluster);
        KafkaAvroSerializer serializer = new KafkaAvroSerializer();
        IngestCommand.Running first = IngestCommand.start(options, quiet)) {
      serializer.configure(
          Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
      SplittableRandom rnd = new SplittableRandom(42);
      IngestCommand.Running second = null;
      try {
        byte[] previous = null;
        for (int i = 0; i < PER_SOURCE; i++) {
          if (i == PER_SOURCE / 3) {
            producer.flush();
            // The second instance joins mid-stream: tasks move between instances while frames flow.
            second =
                IngestCommand.start(
                    options.withApplication(options.applicationId(), dir.resolve("b"), 1, 1),
                    quiet);
            // The rest is produced once the second instance holds tasks, so both do part of the
            // work.
            long joined = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (second.streams().metadataForLocalThreads().stream()
                .allMatch(t -> t.activeTasks().isEmpty())) {
              assertTrue(
                  System.nanoTime() < joined, "the second instance got no task within 120 s");
              Thread.sleep(100);
            }
          }
          for (int s = 0; s < SOURCES; s++) {
            String source = "cam-" + s;
            byte[] value;
            if ((i * SOURCES + s) % 13 == 5) {
              value = ("garbage " + i).getBytes(StandardCharsets.UTF_8);
              expectedBad++;
            } else {
              byte[] px = new byte[28 * 28];
              for (int k = 0; k < px.length; k++) {
                px[k] = (byte) rnd.nextInt(256);
              }
              // Every seventh frame of a source repeats its previous frame exactly: a
              // near-duplicate to drop.
              if (i % 7 == 6 && s == 0 && previous != null) {
                px = previous;
                expectedDuplicates++;
              }
              if (s == 0) {
                previous = px;
              }
              value =
                  serializer.serialize(
                      in,
                      IngestTopologyTest.frame(source, i, ContentType.RAW_GREY, px, 28, 28, null));
            }
            producer.send(new ProducerRecord<>(in, source.getBytes(StandardCharsets.UTF_8), value));
            total++;
          }
        }
        producer.flush();

        Map<String, Integer> seen = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        long dropped = -1;
        int trained = 0;
        int dead = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(cluster)) {
          List<TopicPartition> parts = new java.util.ArrayList<>();
          for (int p = 0; p < 4; p++) {
            parts.add(new TopicPartition(options.outTopic(), p));
            parts.add(new TopicPartition(options.dlqTopic(), p));
          }
          consumer.assign(parts);
          consumer.seekToBeginning(parts);
          while (true) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
              String origin;
              if (r.topic().equals(options.dlqTopic())) {
                origin = header(r, DeadLetter.ORIGIN_HEADER);
                assertEquals(DeadLetter.INGEST, header(r, DeadLetter.STAGE_HEADER));
                assertEquals("DESERIALIZE", header(r, DeadLetter.REASON_HEADER));
                dead++;
              } else {
                ImageFrame f = IngestTopologyTest.readFrame(cluster, r);
                origin = f.getAttributes().get(Normalizer.ORIGIN_ATTRIBUTE);
                trained++;
              }
              seen.merge(origin, 1, Integer::sum);
            }
            if (trained + dead >= total - expectedDuplicates) {
              dropped = droppedIn(first) + droppedIn(second);
              if (trained + dead + dropped >= total) {
                break;
              }
            }
            if (System.nanoTime() > deadline) {
              fail(
                  "after 180 s: "
                      + trained
                      + " trained, "
                      + dead
                      + " dead letters, dropped "
                      + dropped
                      + " of "
                      + total
                      + "; first "
                      + first.counters()
                      + ", second "
                      + second.counters());
            }
          }
        }
        Set<String> duplicated = new HashSet<>();
        seen.forEach(
            (origin, n) -> {
              if (n != 1) {
                duplicated.add(origin + " x" + n);
              }
            });
        assertTrue(duplicated.isEmpty(), "raw offsets written twice: " + duplicated);
        assertEquals(expectedBad, dead, "every garbage record dead-lettered once");
        assertEquals(
            expectedDuplicates,
            dropped,
            "every exact repeat dropped once (committed store counts)");
        assertEquals(
            total - expectedBad - expectedDuplicates, trained, "every other frame trained once");
        assertEquals(total, seen.size() + dropped, "no raw offset lost");
        assertTrue(
            first.counters().done() > 0 && second.counters().done() > 0,
            "both instances did part of the work: " + first.counters() + " / " + second.counters());
      } finally {
        if (second != null) {
          second.close();
        }
      }
    }
  }

  private static long droppedIn(IngestCommand.Running r) {
    try {
      return r.dedupCounts().values().stream().mapToLong(c -> c[1]).sum();
    } catch (
        RuntimeException
            rebalancing) { // InvalidStateStoreException while tasks move: ask again later
      return -1_000_000;
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(KafkaCluster cluster) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaCluster cluster) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  static String header(ConsumerRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
