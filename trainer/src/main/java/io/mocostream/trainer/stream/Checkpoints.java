package io.mocostream.trainer.stream;

import io.mocostream.encoder.format.Sha256;
import io.mocostream.schemas.StateChunk;
import io.mocostream.schemas.TrainerCheckpoint;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.mocostream.registry.client.ClientSettings;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's full state on {@code trainer.state}: {@link StateChunk}s then a {@link TrainerCheckpoint}
 * manifest, in the caller's transaction. Keys are {@code model/chunk-i} and {@code model/checkpoint/STEP} on a
 * compacted topic, so that compaction keeps the newest state (and every small manifest) and a restart reads little.
 */
final class Checkpoints {
  private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
  static final int CHUNK_BYTES = 1024 * 1024;

  /** A checkpoint read back: its manifest and the engine state it describes. */
  record Restored(TrainerCheckpoint manifest, byte[] state) {}

  private Checkpoints() {}

  /** Topic configs: compacted, with segments small enough that compaction actually runs. */
  static Map<String, String> topicConfigs() {
    return Map.of("cleanup.policy", "compact", "segment.bytes", String.valueOf(64 * 1024 * 1024),
        "segment.ms", String.valueOf(Duration.ofMinutes(10).toMillis()), "max.message.bytes", String.valueOf(4 << 20));
  }

  /**
   * A read_committed, group-less consumer of the trainer's Avro topics (state, step log, model), with fetch sizes for
   * ~1 MiB chunks. The caller assigns partitions (see {@link #scan}) and closes it.
   */
  static KafkaConsumer<String, Object> avroReader(String bootstrap, String registryUrl) {
    return avroReader(bootstrap, registryUrl, ClientSettings.NONE);
  }

  /** The same with a secured cluster's client settings. */
  static KafkaConsumer<String, Object> avroReader(String bootstrap, String registryUrl, ClientSettings clients) {
    KafkaAvroDeserializer values = new KafkaAvroDeserializer();
    values.configure(clients.serde(Map.of("schema.registry.url", registryUrl, "specific.avro.reader", true)), false);
    return new KafkaConsumer<>(clients.consumer(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20)), new StringDeserializer(), values);
  }

  /** Every committed checkpoint manifest of {@code model} (their states may be gone), oldest first. */
  static List<TrainerCheckpoint> readManifests(KafkaConsumer<String, Object> consumer, String topic, String model,
      Duration timeout) {
    List<TrainerCheckpoint> manifests = new ArrayList<>();
    scan(consumer, topic, timeout, r -> {
      if (r.value() instanceof TrainerCheckpoint m && m.getModelName().equals(model)) {
        manifests.add(m);
      }
    });
    return manifests;
  }

  /** Reads every partition of {@code topic} from the beginning to its last stable offset. */
  static void scan(KafkaConsumer<String, Object> consumer, String topic, Duration timeout,
      java.util.function.Consumer<ConsumerRecord<String, Object>> action) {
    List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
        .map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!reachedEnd(consumer, end)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("reading " + topic + " did not reach its end within " + timeout);
      }
      consumer.poll(Duration.ofMillis(200)).forEach(action);
    }
  }

  /** Sends the state's chunks then its manifest; the caller's transaction makes them visible together. */
  static TrainerCheckpoint write(Producer<String, Object> producer, String topic, TrainerCheckpoint.Builder draft,
      byte[] state) {
    String model = draft.getModelName();
    int count = Math.max(1, (state.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
    for (int i = 0; i < count; i++) {
      int from = i * CHUNK_BYTES;
      int len = Math.min(CHUNK_BYTES, state.length - from);
      StateChunk chunk = new StateChunk(model, draft.getStep(), i, count, ByteBuffer.wrap(state, from, len).slice());
      producer.send(new ProducerRecord<>(topic, model + "/chunk-" + i, chunk));
    }
    TrainerCheckpoint manifest = draft.setPayloadBytes(state.length).setPayloadSha256(Sha256.hex(state))
        .setChunkCount(count).build();
    // Manifests are small and keyed by step, so compaction keeps every one (replay reads their configuration);
    // chunks are keyed by index, so it keeps only the newest state.
    producer.send(new ProducerRecord<>(topic, model + "/checkpoint/" + manifest.getStep(), manifest));
    return manifest;
  }

  /**
   * The newest committed checkpoint of {@code model}, if any. Reads the (compacted) topic to its last stable
   * offset; chunks must match the manifest's step, count and SHA-256, else that checkpoint is refused loudly.
   */
  static Optional<Restored> readLatest(KafkaConsumer<String, Object> consumer, String topic, String model,
      Duration timeout) {
    Map<Long, Map<Integer, ByteBuffer>> chunksByStep = new HashMap<>();
    Restored[] latest = {null};
    scan(consumer, topic, timeout, r -> {
      if (r.value() instanceof StateChunk c && c.getModelName().equals(model)) {
        chunksByStep.computeIfAbsent(c.getStep(), s -> new HashMap<>()).put(c.getIndex(), c.getData());
      } else if (r.value() instanceof TrainerCheckpoint m && m.getModelName().equals(model)) {
        Map<Integer, ByteBuffer> chunks = chunksByStep.remove(m.getStep());
        if (chunks != null) { // else an older checkpoint whose chunks compaction replaced: only its manifest is left
          latest[0] = assemble(m, chunks, r);
        }
        chunksByStep.keySet().removeIf(step -> step <= m.getStep());
      }
    });
    return Optional.ofNullable(latest[0]);
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (var e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static Restored assemble(TrainerCheckpoint m, Map<Integer, ByteBuffer> chunks, ConsumerRecord<?, ?> at) {
    String where = "checkpoint of model " + m.getModelName() + " step " + m.getStep() + " at " + at.topic() + "-"
        + at.partition() + "@" + at.offset();
    if (chunks == null || chunks.size() != m.getChunkCount()) {
      throw new IllegalStateException(where + ": expected " + m.getChunkCount() + " chunks, found "
          + (chunks == null ? 0 : chunks.size()));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) m.getPayloadBytes());
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < m.getChunkCount(); i++) {
      ByteBuffer b = chunks.get(i);
      if (b == null) {
        missing.add(i);
        continue;
      }
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      out.writeBytes(bytes);
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(where + ": chunks " + missing + " are missing");
    }
    byte[] state = out.toByteArray();
    String sha = Sha256.hex(state);
    if (!sha.equals(m.getPayloadSha256())) {
      throw new IllegalStateException(where + ": SHA-256 " + sha + " does not match the manifest's " + m.getPayloadSha256());
    }
    log.debug("read {} ({} bytes)", where, state.length);
    return new Restored(m, state);
  }
}
