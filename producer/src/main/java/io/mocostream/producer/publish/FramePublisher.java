package io.mocostream.producer.publish;

import io.mocostream.producer.source.SourceItem;
import io.mocostream.producer.validate.Verdict;
import io.mocostream.schemas.ImageFrame;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes validated frames as {@link ImageFrame} records: key = source id (one source, one
 * partition, one order), value = Avro in Confluent wire format through the project's registry-aware
 * serializer.
 *
 * <p>Delivery: idempotent, {@code acks=all}, so a retried batch is never duplicated and an
 * acknowledged frame is on every in-sync replica. Batching: {@value #DEFAULT_BATCH_SIZE} bytes and
 * {@value #DEFAULT_LINGER_MS} ms (measured on a 2-core box: 3 KB records at acks=all went from
 * ~15k/s with Kafka's defaults to ~50k/s).
 *
 * <p>Failure is bounded in time: {@code max.block.ms} {@value #DEFAULT_MAX_BLOCK_MS} ms for
 * metadata (broker down at the first send) and {@code delivery.timeout.ms} {@value
 * #DEFAULT_DELIVERY_TIMEOUT_MS} ms per record (broker gone mid-run), after which the returned
 * future fails with a {@link PublishException} naming the broker.
 *
 * <p>Sequence numbers count per source id from 0 within this publisher; assignment and {@code send}
 * happen under one lock, so sequence order is partition order for every source. Thread-safe.
 *
 * <p>The table of next numbers holds at most {@value #MAX_TRACKED_SOURCES} source ids (least
 * recently used out): an upload endpoint's clients choose their {@code X-Source-Id}, and a table
 * growing with every id they invent would exhaust the heap. An evicted id, or any id first seen
 * after an eviction, continues above the highest number ever evicted, so each source's numbers
 * still only increase (with a gap) and never repeat.
 */
public final class FramePublisher implements AutoCloseable {
  /** The value serializer, by class name as Kafka configs name it. */
  public static final String VALUE_SERIALIZER = "io.mocostream.registry.serde.KafkaAvroSerializer";

  /** The serializer's registry URL config (Confluent's name). */
  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";

  public static final int DEFAULT_BATCH_SIZE = 512 * 1024;
  public static final int DEFAULT_LINGER_MS = 20;
  public static final int DEFAULT_MAX_BLOCK_MS = 15_000;
  public static final int DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
  public static final int DEFAULT_DELIVERY_TIMEOUT_MS = 30_000;

  /** Room for the key, Avro fields and record/batch headers around the image bytes. */
  public static final int RECORD_OVERHEAD_BYTES = 64 * 1024;

  /** Source ids whose next sequence number is remembered (LRU). */
  public static final int MAX_TRACKED_SOURCES = 10_000;

  private final String bootstrap;
  private final String registryUrl;
  private final String topic;
  private final KafkaProducer<String, Object> producer;

  /** Next number per source id, least recently used first; guarded by {@code this}. */
  private final Map<String, Long> nextSequence =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
          if (size() <= MAX_TRACKED_SOURCES) {
            return false;
          }
          evictedFloor = Math.max(evictedFloor, eldest.getValue());
          return true;
        }
      };

  /**
   * Where ids not in the table start: above every number handed out to an evicted id. Guarded by
   * {@code this}.
   */
  private long evictedFloor;

  private final long deliveryTimeoutMs;

  /**
   * @param maxFrameBytes the largest image the validator lets through; {@code max.request.size} is
   *     raised to fit it
   * @param overrides extra or replacing producer configs (applied last)
   */
  public FramePublisher(
      String bootstrap,
      String registryUrl,
      String topic,
      long maxFrameBytes,
      Map<String, String> overrides) {
    this.bootstrap = bootstrap;
    this.registryUrl = registryUrl;
    this.topic = topic;
    Properties props = producerProperties(bootstrap, registryUrl, maxFrameBytes, overrides);
    this.deliveryTimeoutMs =
        Long.parseLong(props.getProperty(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG).trim());
    try {
      this.producer = new KafkaProducer<>(props);
    } catch (KafkaException e) {
      throw new PublishException(
          "cannot create a Kafka producer for " + bootstrap + ": " + e.getMessage(), e);
    }
  }

  /** The producer configs used: public so benches and docs show exactly what is sent with. */
  public static Properties producerProperties(
      String bootstrap, String registryUrl, long maxFrameBytes, Map<String, String> overrides) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    // By name, as Confluent's serializer is configured: the producer hands it all configs (the
    // registry URL too).
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, VALUE_SERIALIZER);
    p.put(SCHEMA_REGISTRY_URL_CONFIG, registryUrl);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(DEFAULT_BATCH_SIZE));
    p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(DEFAULT_LINGER_MS));
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Integer.toString(DEFAULT_MAX_BLOCK_MS));
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(DEFAULT_REQUEST_TIMEOUT_MS));
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(DEFAULT_DELIVERY_TIMEOUT_MS));
    long request = Math.max(1024 * 1024, maxFrameBytes + RECORD_OVERHEAD_BYTES);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Long.toString(request));
    // The accumulator must hold at least one full-size frame, plus batches in flight.
    p.put(
        ProducerConfig.BUFFER_MEMORY_CONFIG,
        Long.toString(Math.max(32L * 1024 * 1024, 2 * request)));
    if (overrides != null) {
      p.putAll(overrides);
    }
    return p;
  }

  public String topic() {
    return topic;
  }

  /**
   * After this long every sent frame has been acknowledged or failed ({@code delivery.timeout.ms}).
   */
  public long deliveryTimeoutMs() {
    return deliveryTimeoutMs;
  }

  /**
   * What a send ends with: the acknowledged frame, or a {@link PublishException}. Runs on the
   * producer's I/O thread.
   */
  @FunctionalInterface
  public interface Outcome {
    void done(PublishedFrame published, PublishException error);
  }

  /**
   * Sends one frame; the future completes when the broker acknowledges it, or fails with a {@link
   * PublishException} naming the broker or registry. Blocks only while the producer's buffer is
   * full or metadata is missing (at most {@code max.block.ms}).
   */
  public CompletableFuture<PublishedFrame> publish(SourceItem item, Verdict.Accepted accepted) {
    CompletableFuture<PublishedFrame> result = new CompletableFuture<>();
    publish(
        item,
        accepted,
        (p, error) -> {
          if (error == null) {
            result.complete(p);
          } else {
            result.completeExceptionally(error);
          }
        });
    return result;
  }

  /**
   * Sends one frame and reports the outcome to {@code outcome} exactly once: on the producer's I/O
   * thread after the acknowledgement, or on this thread when the send fails at once
   * (serializer/registry, metadata timeout).
   */
  public void publish(SourceItem item, Verdict.Accepted accepted, Outcome outcome) {
    String sourceId = item.sourceId();
    int bytes = item.data().length;
    synchronized (this) {
      long seq = nextSequence.getOrDefault(sourceId, evictedFloor);
      // The all-fields constructor: Avro's builder validates and tracks every field, per record,
      // for nothing here.
      ImageFrame frame =
          new ImageFrame(
              sourceId,
              seq,
              Instant.ofEpochMilli(item.captureTimeMs()),
              accepted.contentType(),
              ByteBuffer.wrap(item.data()),
              accepted.width(),
              accepted.height(),
              item.label(),
              item.attributes());
      try {
        producer.send(
            new ProducerRecord<>(topic, sourceId, frame),
            (md, error) -> {
              if (error == null) {
                outcome.done(
                    new PublishedFrame(
                        md.topic(), md.partition(), md.offset(), sourceId, seq, bytes),
                    null);
              } else {
                outcome.done(null, explain(error, item.origin()));
              }
            });
      } catch (RuntimeException e) {
        // Thrown synchronously: serializer (registry) failures and metadata timeouts. The sequence
        // stays unused.
        outcome.done(null, explain(e, item.origin()));
        return;
      }
      nextSequence.put(sourceId, seq + 1);
    }
  }

  /**
   * Source ids whose next sequence number is remembered now (at most {@value
   * #MAX_TRACKED_SOURCES}).
   */
  public synchronized int trackedSources() {
    return nextSequence.size();
  }

  /**
   * Sends everything buffered and waits for the acknowledgements (outcomes arrive on the futures).
   */
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(DEFAULT_DELIVERY_TIMEOUT_MS / 1000));
  }

  public void close(Duration timeout) {
    // Interrupting a producer thread is how a run is stopped; a close on an interrupted thread
    // gives up joining
    // the I/O thread at once (an ERROR with a stack trace, and what was buffered is not sent).
    // Close as if not
    // interrupted, then keep the interrupt for the caller.
    boolean interrupted = Thread.interrupted();
    try {
      producer.close(timeout);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A message that names the failing service, its address, and the frame that hit it. */
  PublishException explain(Throwable error, String origin) {
    if (error instanceof PublishException pe) {
      return pe;
    }
    if (error instanceof SerializationException) {
      return new PublishException(
          "cannot serialize "
              + origin
              + " (schema registry at "
              + registryUrl
              + "): "
              + messageChain(error),
          error);
    }
    if (error instanceof TimeoutException) {
      return new PublishException(
          "broker at "
              + bootstrap
              + " unreachable or not acknowledging topic "
              + topic
              + " ("
              + messageChain(error)
              + ")",
          error);
    }
    if (error instanceof RecordTooLargeException) {
      return new PublishException(
          "the broker at "
              + bootstrap
              + " refused "
              + origin
              + " as too large for topic "
              + topic
              + " (raise its max.message.bytes or lower the byte limit): "
              + messageChain(error),
          error);
    }
    return new PublishException(
        "publishing "
            + origin
            + " to "
            + topic
            + " at "
            + bootstrap
            + " failed: "
            + messageChain(error),
        error);
  }

  static String messageChain(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (sb.indexOf(m) < 0) {
        sb.append(sb.length() == 0 ? "" : ": ").append(m);
      }
    }
    return sb.toString();
  }
}
