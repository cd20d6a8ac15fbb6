package io.mocostream.serving.streams;

import io.mocostream.encoder.live.Embedding;
import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.FrameReader;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.frames.Reason;
import io.mocostream.frames.RegistryUnavailableException;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.SpecificAvroSerde;
import io.mocostream.schemas.ImageFrame;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embed-stream topology: every frame of the input topic becomes an {@code
 * io.mocostream.schemas.Embedding} on the output topic, with the encoder version that computed it
 * and the frame's key, or goes to the dead-letter topic with the reason in its headers. Nothing is
 * dropped.
 *
 * <pre>
 *   in (bytes) ──► embed ──► split ─┬─► embedded ──► out (Embedding, Avro, same key)
 *                                   └─► rejected ──► dlq (the original key, value and headers + dlq headers)
 * </pre>
 *
 * <p>Frames are consumed as raw bytes and deserialized inside the {@code embed} processor, so that
 * a record that is not an {@code ImageFrame} at all (corrupt Avro, another record type) is routed
 * to the dead-letter topic byte for byte ({@value #REASON_DESERIALIZE}, {@value
 * #REASON_NOT_AN_IMAGE_FRAME}) instead of stopping the application or vanishing in a
 * deserialization handler. Frames that do not decode carry the {@link Reason} name ({@code EMPTY},
 * {@code TOO_MANY_BYTES}, {@code TOO_MANY_PIXELS}, {@code UNDECODABLE}, {@code SIZE_MISMATCH},
 * {@code UNSUPPORTED_TYPE}). The dead-letter headers are the trainer's ({@value
 * #DLQ_REASON_HEADER}, {@value #DLQ_MESSAGE_HEADER}, {@value #DLQ_ORIGIN_HEADER}), so one tool
 * reads both dead-letter topics. A registry that cannot be reached is not the frame's fault: that
 * failure is thrown, the transaction aborts, and the frame is processed again once the thread is
 * replaced.
 *
 * <p>The topology is stateless: a new encoder version takes effect at the next frame, with no
 * restart and no repartitioning. Output records keep the input record's timestamp and headers.
 */
public final class EmbedTopology {
  /**
   * Processor and node names: stable, so that a topology description can be compared across
   * versions.
   */
  static final String SOURCE = "frames";

  static final String EMBED = "embed";
  static final String SPLIT = "outcome-";
  static final String EMBEDDED = "embedded";
  static final String REJECTED = "rejected";

  private static final Logger log = LoggerFactory.getLogger(EmbedTopology.class);

  private EmbedTopology() {}

  /**
   * What the topology did, per process (not per committed transaction: a task that aborts and
   * processes a frame again counts it again). For progress lines and tests.
   */
  public static final class Counters {
    private final AtomicLong embedded = new AtomicLong();
    private final Map<String, AtomicLong> rejected = new ConcurrentHashMap<>();
    private final Map<Long, AtomicLong> byVersion = new ConcurrentHashMap<>();

    public long embedded() {
      return embedded.get();
    }

    public long rejected() {
      return rejected.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Rejections by reason. */
    public Map<String, Long> rejectedByReason() {
      Map<String, Long> out = new HashMap<>();
      rejected.forEach((k, v) -> out.put(k, v.get()));
      return out;
    }

    /** Frames embedded by each encoder version. */
    public Map<Long, Long> embeddedByVersion() {
      Map<Long, Long> out = new HashMap<>();
      byVersion.forEach((k, v) -> out.put(k, v.get()));
      return out;
    }

    void embedded(long version) {
      embedded.incrementAndGet();
      byVersion.computeIfAbsent(version, v -> new AtomicLong()).incrementAndGet();
    }

    void rejected(String reason) {
      rejected.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
    }

    @Override
    public String toString() {
      return "embedded="
          + embedded()
          + " rejected="
          + rejected()
          + " by_version="
          + embeddedByVersion();
    }
  }

  /**
   * {@link #build(StreamsBuilder, EmbedOptions, Embedder, Counters)} without looking at the
   * counters.
   */
  public static Topology build(StreamsBuilder builder, EmbedOptions options, Embedder embedder) {
    return build(builder, options, embedder, new Counters());
  }

  /**
   * Adds the embed-stream nodes to {@code builder} and builds its topology.
   *
   * @param options topics and registry settings (the registry URL and any {@code streamsConfig}
   *     entries configure the Avro serdes)
   * @param embedder computes one frame's embedding
   * @param counters counts what the processor did
   */
  public static Topology build(
      StreamsBuilder builder, EmbedOptions options, Embedder embedder, Counters counters) {
    Objects.requireNonNull(builder, "builder");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(embedder, "embedder");
    Objects.requireNonNull(counters, "counters");
    Map<String, Object> serdeConfig = serdeConfig(options);
    SpecificAvroSerde<io.mocostream.schemas.Embedding> embeddingSerde =
        new SpecificAvroSerde<>(io.mocostream.schemas.Embedding.class);
    embeddingSerde.configure(serdeConfig, false);

    KStream<byte[], byte[]> frames =
        builder.stream(
            options.inTopic(),
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName(SOURCE));
    Map<String, KStream<byte[], Outcome>> branches =
        frames
            .process(() -> new EmbedProcessor(embedder, serdeConfig, counters), Named.as(EMBED))
            .split(Named.as(SPLIT))
            .branch((key, outcome) -> outcome instanceof Outcome.Embedded, Branched.as(EMBEDDED))
            .defaultBranch(Branched.as(REJECTED));
    branches
        .get(SPLIT + EMBEDDED)
        .mapValues(outcome -> ((Outcome.Embedded) outcome).value(), Named.as("embedding-value"))
        .to(
            options.outTopic(),
            Produced.with(Serdes.ByteArray(), embeddingSerde).withName("embeddings-sink"));
    branches
        .get(SPLIT + REJECTED)
        .mapValues(outcome -> ((Outcome.Rejected) outcome).original(), Named.as("original-value"))
        .to(
            options.dlqTopic(),
            Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dlq-sink"));
    return builder.build();
  }

  /**
   * Registry settings for the serdes: the URL, plus whatever client settings the options pass
   * through.
   */
  static Map<String, Object> serdeConfig(EmbedOptions options) {
    Map<String, Object> config = new HashMap<>(options.streamsConfig());
    config.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, options.registryUrl());
    return config;
  }

  /** What the embed processor made of one record. */
  sealed interface Outcome {
    record Embedded(io.mocostream.schemas.Embedding value) implements Outcome {}

    /** The original value, forwarded with dead-letter headers added. */
    record Rejected(byte[] original) implements Outcome {}
  }

  /**
   * Deserializes, embeds, and forwards one {@link Outcome} per record. One instance per stream
   * task.
   */
  static final class EmbedProcessor implements Processor<byte[], byte[], byte[], Outcome> {
    private final Embedder embedder;
    private final Map<String, Object> serdeConfig;
    private final Counters counters;
    private ProcessorContext<byte[], Outcome> context;
    private FrameReader reader;

    EmbedProcessor(Embedder embedder, Map<String, Object> serdeConfig, Counters counters) {
      this.embedder = embedder;
      this.serdeConfig = serdeConfig;
      this.counters = counters;
    }

    @Override
    public void init(ProcessorContext<byte[], Outcome> context) {
      this.context = context;
      reader = new FrameReader(serdeConfig);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      RecordMetadata md =
          context
              .recordMetadata()
              .orElseThrow(
                  () ->
                      new IllegalStateException("embed processor called without a source record"));
      String where = DeadLetter.origin(md.topic(), md.partition(), md.offset());
      io.mocostream.schemas.Embedding out;
      Embedding e;
      ImageFrame frame;
      try {
        frame = reader.read(md.topic(), record.headers(), record.value(), where);
        e = embedder.embed(frame, ImageDecoder.describe(frame) + " at " + where);
      } catch (RegistryUnavailableException unavailable) {
        // Not the frame's fault: fail the task (the transaction aborts) instead of dead-lettering a
        // good frame.
        throw new StreamsException(unavailable.getMessage(), unavailable);
      } catch (FrameRejectedException rejected) {
        reject(
            record,
            new DeadLetter(
                rejected.reason(), rejected.getMessage(), where, DeadLetter.EMBED_STREAM));
        return;
      } catch (RuntimeException | LinkageError | VirtualMachineError t) {
        // One frame's failure (an encoder error, memory for one hostile image) is that frame's,
        // never the app's.
        reject(
            record,
            new DeadLetter(Reason.INTERNAL, where + ": " + t, where, DeadLetter.EMBED_STREAM));
        return;
      }
      out =
          io.mocostream.schemas.Embedding.newBuilder()
              .setModel(e.model())
              .setVersion(e.version())
              .setVector(floats(e.vector()))
              .setSourceId(frame.getSourceId())
              .setSequence(frame.getSequence())
              .setFrameTopic(md.topic())
              .setFramePartition(md.partition())
              .setFrameOffset(md.offset())
              .setCreatedAt(Instant.ofEpochMilli(System.currentTimeMillis()))
              .build();
      counters.embedded(e.version());
      context.forward(record.withValue(new Outcome.Embedded(out)));
    }

    private void reject(Record<byte[], byte[]> record, DeadLetter letter) {
      counters.rejected(letter.reason().name());
      log.warn(
          "frame rejected to the dead-letter topic ({}): {}", letter.reason(), letter.message());
      context.forward(
          record
              .withValue(new Outcome.Rejected(record.value()))
              .withHeaders(letter.headersOn(record.headers())));
    }

    @Override
    public void close() {
      if (reader != null) {
        reader.close();
      }
    }
  }

  /** The vector as the Avro array field wants it. */
  static List<Float> floats(float[] vector) {
    List<Float> out = new ArrayList<>(vector.length);
    for (float f : vector) {
      out.add(f);
    }
    return out;
  }
}
