package io.mocostream.encoder.publish;

import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.PayloadChunks;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes encoder versions on the model topic: the payload as {@link EncoderChunk} records, then
 * the signed {@link EncoderVersion} manifest LAST, all keyed by the model name so that one
 * partition holds a model's records in order. Inside one transaction, read_committed subscribers
 * see a whole version or nothing, and the manifest always follows its chunks.
 *
 * <p>The model topic carries two record types, so the producer's value serializer must name
 * subjects per record: {@link #serializerConfig} sets {@code
 * value.subject.name.strategy=TopicRecordNameStrategy} (subjects {@code
 * <topic>-io.mocostream.schemas.EncoderChunk} and {@code
 * <topic>-io.mocostream.schemas.EncoderVersion}). Thread-safe.
 */
public final class EncoderPublisher {
  /** Subject naming the model topic's value serializer needs (Confluent's class name). */
  public static final String SUBJECT_NAME_STRATEGY =
      "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy";

  /** Producer buffer for whole models: a 45 MB ResNet-18 must not block on the 32 MiB default. */
  public static final long PRODUCER_BUFFER_MEMORY = 128L * 1024 * 1024;

  /** Largest request: a chunk of up to 4 MiB plus framing. */
  public static final int PRODUCER_MAX_REQUEST_SIZE = 4 * 1024 * 1024 + 64 * 1024;

  private static final Logger log = LoggerFactory.getLogger(EncoderPublisher.class);

  private final String topic;
  private final ModelSigner signer;
  private final int chunkSize;

  /** Publishes on {@code topic} with {@link PayloadChunks#DEFAULT_CHUNK_SIZE} chunks. */
  public EncoderPublisher(String topic, ModelSigner signer) {
    this(topic, signer, PayloadChunks.DEFAULT_CHUNK_SIZE);
  }

  public EncoderPublisher(String topic, ModelSigner signer, int chunkSize) {
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("model topic name is blank");
    }
    PayloadChunks.chunkCount(1, chunkSize); // validates the chunk size
    this.topic = topic;
    this.signer = Objects.requireNonNull(signer, "signer");
    this.chunkSize = chunkSize;
  }

  public String topic() {
    return topic;
  }

  public int chunkSize() {
    return chunkSize;
  }

  /** A manifest and its chunks, ready to send (see {@link #prepare}). */
  public record Prepared(EncoderVersion manifest, List<EncoderChunk> chunks) {}

  /**
   * Completes and signs a manifest without sending anything: fills {@code payloadBytes}, {@code
   * payloadSha256}, {@code chunkCount} and {@code keyId} from the payload and this publisher's key,
   * then {@code signature}. The draft must set every other field without a default (model name,
   * version, architecture, step, createdAt, lineage, metrics, configFingerprint). The chunks are
   * views of {@code payload}: do not change it until sent.
   */
  public Prepared prepare(EncoderVersion.Builder draft, byte[] payload) {
    List<EncoderChunk> chunks = chunks(draft, payload);
    return new Prepared(sign(draft, payload, chunks.size()), chunks);
  }

  private List<EncoderChunk> chunks(EncoderVersion.Builder draft, byte[] payload) {
    Objects.requireNonNull(draft, "manifest draft");
    String model = draft.getModelName();
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("manifest draft has no model name");
    }
    if (!draft.hasVersion() || draft.getVersion() < 1) {
      throw new IllegalArgumentException(
          "model "
              + model
              + ": version must be set and >= 1, got "
              + (draft.hasVersion() ? draft.getVersion() : "none"));
    }
    long version = draft.getVersion();
    if (payload == null || payload.length == 0) {
      throw new IllegalArgumentException(
          "model " + model + " version " + version + ": payload is empty");
    }
    return PayloadChunks.chunks(model, version, payload, chunkSize);
  }

  private EncoderVersion sign(EncoderVersion.Builder draft, byte[] payload, int chunkCount) {
    EncoderVersion manifest =
        EncoderVersion.newBuilder(draft)
            .setPayloadBytes(payload.length)
            .setPayloadSha256(Sha256.hex(payload))
            .setChunkCount(chunkCount)
            .setKeyId(signer.keyId())
            .setSignature(ByteBuffer.allocate(0))
            .build();
    manifest.setSignature(ByteBuffer.wrap(signer.signManifest(manifest)));
    return manifest;
  }

  /**
   * Sends one version with {@code producer} inside the transaction the CALLER has begun and will
   * commit (together with whatever else belongs to the same step: trainer state, step log, consumer
   * offsets). Nothing here begins, commits or flushes; send failures surface when the caller
   * commits (and are logged here with the chunk they hit). If this throws (a serializer or registry
   * failure), some chunks may already be in the transaction: abort it.
   *
   * @return the signed manifest as sent
   */
  public EncoderVersion publish(
      Producer<String, Object> producer, EncoderVersion.Builder draft, byte[] payload) {
    List<EncoderChunk> chunks = chunks(draft, payload);
    // Chunks first: the producer's I/O thread sends them while this thread hashes and signs.
    sendChunks(producer, chunks);
    EncoderVersion manifest = sign(draft, payload, chunks.size());
    sendManifest(producer, manifest);
    return manifest;
  }

  /** Sends prepared records: chunks in index order, then the manifest, keyed by the model name. */
  public void send(Producer<String, Object> producer, Prepared prepared) {
    sendChunks(producer, prepared.chunks());
    sendManifest(producer, prepared.manifest());
  }

  private void sendChunks(Producer<String, Object> producer, List<EncoderChunk> chunks) {
    for (EncoderChunk chunk : chunks) {
      producer.send(
          new ProducerRecord<>(topic, chunk.getModelName(), chunk),
          (md, e) -> {
            if (e != null) {
              log.error(
                  "sending chunk {}/{} of model {} version {} to {} failed: {}",
                  chunk.getIndex(),
                  chunk.getCount(),
                  chunk.getModelName(),
                  chunk.getVersion(),
                  topic,
                  e.toString());
            }
          });
    }
  }

  private void sendManifest(Producer<String, Object> producer, EncoderVersion manifest) {
    String model = manifest.getModelName();
    producer.send(
        new ProducerRecord<>(topic, model, manifest),
        (md, e) -> {
          if (e != null) {
            log.error(
                "sending the manifest of model {} version {} to {} failed: {}",
                model,
                manifest.getVersion(),
                topic,
                e.toString());
          }
        });
  }

  /**
   * Begins a transaction, publishes, commits: for tools and benches whose producer writes nothing
   * else. On a failure the transaction is aborted (unless the producer is fenced or otherwise
   * fatally broken, when only closing it helps) and the failure rethrown.
   */
  public EncoderVersion publishInOwnTransaction(
      Producer<String, Object> producer, EncoderVersion.Builder draft, byte[] payload) {
    producer.beginTransaction();
    try {
      EncoderVersion manifest = publish(producer, draft, payload);
      producer.commitTransaction();
      return manifest;
    } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
      throw e;
    } catch (KafkaException | IllegalArgumentException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException abortFailure) {
        e.addSuppressed(abortFailure);
      }
      throw e;
    }
  }

  /** Value serializer settings for the model topic: the registry and per-record subjects. */
  public static Map<String, Object> serializerConfig(String registryUrl) {
    Map<String, Object> config = new HashMap<>();
    config.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, registryUrl);
    config.put(KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY, SUBJECT_NAME_STRATEGY);
    return config;
  }

  /**
   * Producer settings for publishing models: transactional (idempotent, acks=all), no compression
   * (weights barely compress and compressing 45 MB costs more than sending it on a LAN), buffer and
   * request sizes for ~1 MiB records, and the serializer settings of {@link #serializerConfig}. A
   * trainer that shares its producer with other topics can merge these into its own.
   */
  public static Map<String, Object> producerConfig(
      String bootstrap, String registryUrl, String transactionalId) {
    Map<String, Object> config = serializerConfig(registryUrl);
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, PRODUCER_MAX_REQUEST_SIZE);
    config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, PRODUCER_BUFFER_MEMORY);
    // A chunk fills a batch by itself and goes at once; the batch size only lets the small manifest
    // ride along.
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024 * 1024);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    config.put(
        ProducerConfig.SEND_BUFFER_CONFIG,
        -1); // OS default with autotuning beats the fixed 128 KiB
    return config;
  }

  /**
   * A transactional producer with {@link #producerConfig}, transactions initialised. The caller
   * closes it.
   */
  public static KafkaProducer<String, Object> createProducer(
      String bootstrap, String registryUrl, String transactionalId) {
    Map<String, Object> config = producerConfig(bootstrap, registryUrl, transactionalId);
    KafkaAvroSerializer serializer = new KafkaAvroSerializer();
    serializer.configure(config, false);
    Map<String, Object> producerOnly = new HashMap<>(config);
    producerOnly
        .keySet()
        .retainAll(ProducerConfig.configNames()); // registry settings are the serializer's
    KafkaProducer<String, Object> producer =
        new KafkaProducer<>(producerOnly, new StringSerializer(), serializer);
    try {
      producer.initTransactions();
    } catch (RuntimeException e) {
      producer.close();
      throw e;
    }
    return producer;
  }
}
