package io.mocostream.trainer.stream;

import io.mocostream.encoder.format.EncoderRecords;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.encoder.format.SigningInput;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.registry.client.ClientSettings;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.schemas.EncoderVersion;
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
import org.apache.avro.generic.IndexedRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's full state on {@code trainer.state}: {@link StateChunk}s then a {@link
 * TrainerCheckpoint} manifest, in the caller's transaction. Keys are {@code model/chunk-i} and
 * {@code model/checkpoint/STEP} on a compacted topic, so that compaction keeps the newest state
 * (and every small manifest) and a restart reads little.
 *
 * <p>Trust: the topic is writable by whoever reaches the broker, and a restored state comes out, a
 * few steps later, as a validly signed encoder version: without a check the trainer would be a
 * signing oracle. So each manifest is signed by the trainer's own Ed25519 key (the model signing
 * key, under a separate signing domain so a checkpoint signature can never pass as a manifest's)
 * and covers the state through its SHA-256. On restore, a manifest that does not verify, or whose
 * chunks do not match it, is logged and passed over, and the newest checkpoint that verifies wins.
 * If none does, the trainer starts afresh (warning how many were refused) rather than refusing to
 * start: refusing would let anyone who can write one record to this topic stop training, while a
 * fresh start trains from nothing an attacker chose, and its versions continue above the newest one
 * the key signed. A record that is not Avro at all is logged and skipped.
 */
final class Checkpoints {
  private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
  static final int CHUNK_BYTES = 1024 * 1024;

  /**
   * Signing domain of checkpoint manifests (see {@link SigningInput#of(String,
   * org.apache.avro.generic.IndexedRecord)}).
   */
  static final String DOMAIN = "mocostream trainer-checkpoint v1\0";

  /** A checkpoint read back: its manifest and the engine state it describes. */
  record Restored(TrainerCheckpoint manifest, byte[] state) {}

  private Checkpoints() {}

  /** Topic configs: compacted, with segments small enough that compaction actually runs. */
  static Map<String, String> topicConfigs() {
    return Map.of(
        "cleanup.policy",
        "compact",
        "segment.bytes",
        String.valueOf(64 * 1024 * 1024),
        "segment.ms",
        String.valueOf(Duration.ofMinutes(10).toMillis()),
        "max.message.bytes",
        String.valueOf(4 << 20));
  }

  /**
   * A read_committed, group-less consumer of the trainer's Avro topics (state, step log, model),
   * with fetch sizes for ~1 MiB chunks. The caller assigns partitions (see {@link #scan}) and
   * closes it.
   */
  static KafkaConsumer<String, Object> avroReader(String bootstrap, String registryUrl) {
    return avroReader(bootstrap, registryUrl, ClientSettings.NONE);
  }

  /** The same with a secured cluster's client settings. */
  static KafkaConsumer<String, Object> avroReader(
      String bootstrap, String registryUrl, ClientSettings clients) {
    KafkaAvroDeserializer values = new KafkaAvroDeserializer();
    values.configure(
        clients.serde(Map.of("schema.registry.url", registryUrl, "specific.avro.reader", true)),
        false);
    return new KafkaConsumer<>(
        clients.consumer(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                16 << 20)),
        new StringDeserializer(),
        values);
  }

  /**
   * Every committed checkpoint manifest of {@code model} (their states may be gone), oldest first.
   */
  static List<TrainerCheckpoint> readManifests(
      KafkaConsumer<String, Object> consumer, String topic, String model, Duration timeout) {
    List<TrainerCheckpoint> manifests = new ArrayList<>();
    scan(
        consumer,
        topic,
        timeout,
        r -> {
          if (r.value() instanceof TrainerCheckpoint m && m.getModelName().equals(model)) {
            manifests.add(m);
          }
        });
    return manifests;
  }

  /** Reads every partition of {@code topic} from the beginning to its last stable offset. */
  static void scan(
      KafkaConsumer<String, Object> consumer,
      String topic,
      Duration timeout,
      java.util.function.Consumer<ConsumerRecord<String, Object>> action) {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic, timeout).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!reachedEnd(consumer, end)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "reading " + topic + " did not reach its end within " + timeout);
      }
      try {
        consumer.poll(Duration.ofMillis(200)).forEach(action);
      } catch (RecordDeserializationException e) {
        // Not a record of ours (not Avro, unknown schema id, a schema of another shape): skip it,
        // never stop on it.
        log.error(
            "{}-{}@{} is not a readable record; skipped: {}",
            e.topicPartition().topic(),
            e.topicPartition().partition(),
            e.offset(),
            Untrusted.text(e.getMessage()));
        consumer.seek(e.topicPartition(), e.offset() + 1);
      }
    }
  }

  /**
   * Sends the state's chunks then its manifest, signed; the caller's transaction makes them visible
   * together.
   */
  static TrainerCheckpoint write(
      Producer<String, Object> producer,
      String topic,
      TrainerCheckpoint.Builder draft,
      byte[] state,
      ModelSigner signer) {
    String model = draft.getModelName();
    int count = Math.max(1, (state.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
    for (int i = 0; i < count; i++) {
      int from = i * CHUNK_BYTES;
      int len = Math.min(CHUNK_BYTES, state.length - from);
      StateChunk chunk =
          new StateChunk(
              model, draft.getStep(), i, count, ByteBuffer.wrap(state, from, len).slice());
      producer.send(new ProducerRecord<>(topic, model + "/chunk-" + i, chunk));
    }
    TrainerCheckpoint manifest =
        draft
            .setPayloadBytes(state.length)
            .setPayloadSha256(Sha256.hex(state))
            .setChunkCount(count)
            .setKeyId(signer.keyId())
            .setSignature(ByteBuffer.allocate(0))
            .build();
    manifest.setSignature(ByteBuffer.wrap(signer.signRecord(DOMAIN, manifest)));
    // Manifests are small and keyed by step, so compaction keeps every one (replay reads their
    // configuration);
    // chunks are keyed by index, so it keeps only the newest state.
    producer.send(
        new ProducerRecord<>(topic, model + "/checkpoint/" + manifest.getStep(), manifest));
    return manifest;
  }

  /**
   * The newest committed checkpoint of {@code model} signed by a key of {@code trust}, if any.
   * Reads the (compacted) topic to its last stable offset. A manifest that does not verify, or
   * whose chunks do not match its step, count and SHA-256, is logged and passed over (see the class
   * comment).
   */
  static Optional<Restored> readLatest(
      KafkaConsumer<String, Object> consumer,
      String topic,
      String model,
      TrustedKeys trust,
      Duration timeout) {
    Map<Long, Map<Integer, ByteBuffer>> chunksByStep = new HashMap<>();
    Restored[] latest = {null};
    int[] refused = {0};
    scan(
        consumer,
        topic,
        timeout,
        r -> {
          if (r.value() instanceof StateChunk c && c.getModelName().equals(model)) {
            chunksByStep
                .computeIfAbsent(c.getStep(), s -> new HashMap<>())
                .put(c.getIndex(), c.getData());
          } else if (r.value() instanceof TrainerCheckpoint m && m.getModelName().equals(model)) {
            String where =
                "checkpoint of model "
                    + model
                    + " step "
                    + m.getStep()
                    + " at "
                    + r.topic()
                    + "-"
                    + r.partition()
                    + "@"
                    + r.offset();
            TrustedKeys.Verdict verdict = trust.verify(DOMAIN, m);
            if (verdict != TrustedKeys.Verdict.VALID) {
              // Decides nothing, not even the fate of the chunks of its step (the real manifest may
              // follow).
              refused[0]++;
              log.error(
                  "{} is refused: {} (key '{}'; the trainer's is {})",
                  where,
                  verdict,
                  Untrusted.text(m.getKeyId()),
                  trust.keyIds());
              return;
            }
            Map<Integer, ByteBuffer> chunks = chunksByStep.remove(m.getStep());
            if (chunks
                != null) { // else an older checkpoint whose chunks compaction replaced: only its
              // manifest is left
              try {
                latest[0] = assemble(m, chunks, r);
              } catch (IllegalStateException e) {
                refused[0]++;
                log.error("{}; passed over", Untrusted.text(e.getMessage(), 1024));
              }
            }
            chunksByStep.keySet().removeIf(step -> step <= m.getStep());
          }
        });
    if (refused[0] > 0) {
      log.warn(
          "model {}: {} checkpoint(s) on {} refused; {}",
          model,
          refused[0],
          topic,
          latest[0] == null
              ? "none verifies: starting afresh"
              : "restoring the newest that verifies, step " + latest[0].manifest().getStep());
    }
    return Optional.ofNullable(latest[0]);
  }

  /**
   * Records larger than this on the model topic are chunks, not manifests: not deserialized by
   * {@link #newestSignedVersion}.
   */
  static final int MAX_MANIFEST_BYTES = 512 * 1024;

  /**
   * The highest version of {@code model} on the model topic whose manifest verifies under {@code
   * trust} (the trainer's own key), or 0. A trainer that lost its state continues above it:
   * subscribers refuse a version not newer than one they accepted, so restarting at 1 would publish
   * nothing anyone takes. Reads the whole topic, deserializing only small records of the model
   * (manifests); each record on its own (any failure skips it).
   */
  static long newestSignedVersion(
      String bootstrap,
      String registryUrl,
      String topic,
      String model,
      TrustedKeys trust,
      Duration timeout,
      ClientSettings clients) {
    KafkaAvroDeserializer values = new KafkaAvroDeserializer();
    // generic: the writer schema is signed
    values.configure(clients.serde(Map.of("schema.registry.url", registryUrl)), false);
    long[] newest = {0};
    int[] forged = {0};
    org.apache.kafka.common.serialization.Deserializer<Object> raw =
        (t, bytes) -> bytes; // deserialized below
    try (values;
        KafkaConsumer<String, Object> c =
            new KafkaConsumer<>(
                clients.consumer(
                    Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                        "read_committed",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false,
                        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                        16 << 20)),
                new StringDeserializer(),
                raw)) {
      scan(
          c,
          topic,
          timeout,
          r -> {
            if (!model.equals(r.key())
                || !(r.value() instanceof byte[] bytes)
                || bytes.length > MAX_MANIFEST_BYTES) {
              return;
            }
            try {
              Object value = values.deserialize(topic, bytes);
              if (EncoderRecords.isManifest(value)) {
                EncoderVersion m = EncoderRecords.toManifest((IndexedRecord) value);
                if (model.equals(m.getModelName()) && m.getVersion() > newest[0]) {
                  if (trust.verify((IndexedRecord) value) == TrustedKeys.Verdict.VALID) {
                    newest[0] = m.getVersion();
                  } else {
                    forged[0]++;
                  }
                }
              }
            } catch (Throwable e) {
              log.debug(
                  "{}-{}@{} skipped: {}", r.topic(), r.partition(), r.offset(), Untrusted.text(e));
            }
          });
    }
    if (forged[0] > 0) {
      log.warn(
          "model {}: {} manifest(s) on {} above version {} do not verify under the trainer's key; ignored",
          model,
          forged[0],
          topic,
          newest[0]);
    }
    return newest[0];
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (var e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static Restored assemble(
      TrainerCheckpoint m, Map<Integer, ByteBuffer> chunks, ConsumerRecord<?, ?> at) {
    String where =
        "checkpoint of model "
            + m.getModelName()
            + " step "
            + m.getStep()
            + " at "
            + at.topic()
            + "-"
            + at.partition()
            + "@"
            + at.offset();
    if (chunks == null || chunks.size() != m.getChunkCount()) {
      throw new IllegalStateException(
          where
              + ": expected "
              + m.getChunkCount()
              + " chunks, found "
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
      throw new IllegalStateException(
          where + ": SHA-256 " + sha + " does not match the manifest's " + m.getPayloadSha256());
    }
    log.debug("read {} ({} bytes)", where, state.length);
    return new Restored(m, state);
  }
}
