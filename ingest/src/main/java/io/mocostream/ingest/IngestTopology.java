package io.mocostream.ingest;

import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.FrameReader;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.frames.Reason;
import io.mocostream.frames.RegistryUnavailableException;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.SpecificAvroSerde;
import io.mocostream.schemas.ImageFrame;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingest topology: every record of the raw topic becomes a training frame, a counted
 * near-duplicate drop, or a dead letter with its reason. Nothing vanishes.
 *
 * <pre>
 *   in (bytes) ──► ingest ──► sink ─┬─► out (a training frame: ImageFrame, Avro, same key, timestamp and headers)
 *                    │               └─► dlq (a dead letter: the original key, value and headers + dlq headers)
 *                    └── dedup store (per source: the last kept hashes, kept/dropped counts; changelogged)
 * </pre>
 *
 * <p>One sink picks the topic by outcome ({@link OutcomeSerializer} writes each kind): three nodes
 * per record instead of a split into two branches, each with its own value mapping and sink.
 *
 * <p>Per record, in the {@code ingest} processor: {@link FrameReader} (wire format, writer schema,
 * type), then {@link Normalizer} (the frame contract's checks before allocation, a decode within
 * the pixel budget, area-average resize, re-encode, dHash), then the near-duplicate check against
 * the source's window of kept hashes. A refused frame is dead-lettered by {@link DeadLetter} with
 * stage {@value DeadLetter#INGEST}; any other Throwable while handling the record is that record's
 * dead letter ({@link Reason#INTERNAL}), never the application's end. A registry that cannot be
 * asked is not the frame's fault: that is thrown, the transaction aborts, and the frame is read
 * again once the thread is replaced. Writing the outputs and the store stays outside the per-record
 * catch: a broker failure there is the application's, to abort and retry, not a frame's.
 *
 * <p>The dedup store's updates, the outputs and the input offsets commit in one transaction
 * (exactly_once_v2), so the per-source kept/dropped counts in the store are exact: after a crash or
 * a task moving to another instance, no frame is counted, written or dropped twice.
 */
public final class IngestTopology {
  /**
   * Processor, node and store names: stable, so that a topology (and its changelog topic) survives
   * upgrades.
   */
  static final String SOURCE = "raw-frames";

  static final String INGEST = "ingest";
  static final String SINK = "outcome-sink";

  /** The dedup store; its changelog topic is {@code <application.id>-dedup-changelog}. */
  public static final String DEDUP_STORE = "dedup";

  /**
   * Source ids longer than this are keyed in the store by their SHA-256 (the key must fit a
   * changelog record).
   */
  static final int MAX_STORE_KEY_CHARS = 256;

  private static final Logger log = LoggerFactory.getLogger(IngestTopology.class);

  private IngestTopology() {}

  /**
   * What the topology did, per process (not per committed transaction: a task that aborts and
   * processes a record again counts it again; the dedup store's counts are the exact ones). For
   * progress lines and tests.
   */
  public static final class Counters {
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong trained = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private final AtomicLong registryFailures = new AtomicLong();
    private final Map<String, AtomicLong> rejected = new ConcurrentHashMap<>();

    /** Records taken from the input topic. */
    public long read() {
      return read.get();
    }

    /** Frames written to the training topic. */
    public long trained() {
      return trained.get();
    }

    /** Near-duplicates dropped. */
    public long dropped() {
      return dropped.get();
    }

    public long rejected() {
      return rejected.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Every record with an outcome: trained + dropped + rejected. */
    public long done() {
      return trained() + dropped() + rejected();
    }

    /** Value bytes read and written for training frames (the compaction ingest achieves). */
    public long bytesIn() {
      return bytesIn.get();
    }

    public long bytesOut() {
      return bytesOut.get();
    }

    /** Records whose processing stopped on a registry outage (the task retries them). */
    public long registryFailures() {
      return registryFailures.get();
    }

    /** Rejections by {@link Reason} name. */
    public Map<String, Long> rejectedByReason() {
      Map<String, Long> out = new HashMap<>();
      rejected.forEach((k, v) -> out.put(k, v.get()));
      return out;
    }

    long rejected(String reason) {
      return rejected.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
    }

    @Override
    public String toString() {
      return "read="
          + read()
          + " trained="
          + trained()
          + " dropped_duplicates="
          + dropped()
          + " rejected="
          + rejected()
          + " by_reason="
          + new java.util.TreeMap<>(rejectedByReason());
    }
  }

  /** {@link #build(StreamsBuilder, IngestOptions, Counters)} without looking at the counters. */
  public static Topology build(StreamsBuilder builder, IngestOptions options) {
    return build(builder, options, new Counters());
  }

  /**
   * Adds the ingest nodes (and, with dedup on, the dedup store) to {@code builder} and builds its
   * topology.
   *
   * @param options topics, image settings, dedup and registry settings ({@code streamsConfig}
   *     entries configure the Avro serdes too)
   * @param counters counts what the processor did
   */
  public static Topology build(StreamsBuilder builder, IngestOptions options, Counters counters) {
    Objects.requireNonNull(builder, "builder");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(counters, "counters");
    Map<String, Object> serdeConfig = serdeConfig(options);
    SpecificAvroSerde<ImageFrame> frameSerde = new SpecificAvroSerde<>(ImageFrame.class);
    frameSerde.configure(serdeConfig, false);

    String[] stores = {};
    if (options.dedup().enabled()) {
      // In memory, restored from its compacted changelog: a few hundred bytes per source. Caching
      // folds a source's
      // updates within one commit interval into one changelog record.
      StoreBuilder<KeyValueStore<String, byte[]>> store =
          Stores.keyValueStoreBuilder(
                  Stores.inMemoryKeyValueStore(DEDUP_STORE), Serdes.String(), Serdes.ByteArray())
              .withCachingEnabled();
      builder.addStateStore(store);
      stores = new String[] {DEDUP_STORE};
    }
    Normalizer normalizer =
        new Normalizer(
            new ImageDecoder(options.limits(), options.decodePixels()),
            options.size(),
            options.format());
    String out = options.outTopic();
    String dlq = options.dlqTopic();
    builder.stream(
            options.inTopic(),
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName(SOURCE))
        .process(
            () -> new IngestProcessor(normalizer, options.dedup(), serdeConfig, counters),
            Named.as(INGEST),
            stores)
        .to(
            (key, outcome, context) -> outcome instanceof Outcome.Train ? out : dlq,
            Produced.with(
                    Serdes.ByteArray(), new OutcomeSerializer(frameSerde.serializer()).asSerde())
                .withName(SINK));
    return builder.build();
  }

  /**
   * Registry settings for the serdes: the URL, plus whatever client settings the options pass
   * through.
   */
  static Map<String, Object> serdeConfig(IngestOptions options) {
    Map<String, Object> config = new HashMap<>(options.streamsConfig());
    config.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, options.registryUrl());
    return config;
  }

  /** What the ingest processor made of one record (a dropped near-duplicate is not forwarded). */
  sealed interface Outcome {
    record Train(ImageFrame frame) implements Outcome {}

    /** The original value, forwarded with dead-letter headers added. */
    record Rejected(byte[] original) implements Outcome {}
  }

  /**
   * Writes a training frame as Avro (registry, Confluent wire format) and a dead letter as the
   * original bytes.
   */
  static final class OutcomeSerializer implements Serializer<Outcome> {
    private final Serializer<ImageFrame> frames;

    OutcomeSerializer(Serializer<ImageFrame> frames) {
      this.frames = frames;
    }

    @Override
    public byte[] serialize(String topic, Outcome outcome) {
      return serialize(topic, null, outcome);
    }

    @Override
    public byte[] serialize(String topic, Headers headers, Outcome outcome) {
      if (outcome instanceof Outcome.Train train) {
        return frames.serialize(topic, headers, train.frame());
      }
      return ((Outcome.Rejected) outcome).original();
    }

    @Override
    public void close() {
      frames.close();
    }

    /** For the sink, which only serializes: outcomes are never read back. */
    Serde<Outcome> asSerde() {
      Serializer<Outcome> self = this;
      return new Serde<>() {
        @Override
        public Serializer<Outcome> serializer() {
          return self;
        }

        @Override
        public Deserializer<Outcome> deserializer() {
          throw new UnsupportedOperationException("ingest outcomes are written, never read back");
        }
      };
    }
  }

  /**
   * A source's dedup state: its kept and dropped counts and its most recent kept hashes (oldest
   * first), as the store holds them: {@code kept (8 bytes) | dropped (8) | hash (8) × n},
   * big-endian.
   */
  record Window(long kept, long dropped, long[] hashes) {
    static final Window EMPTY = new Window(0, 0, new long[0]);

    static Window decode(byte[] b) {
      if (b == null) {
        return EMPTY;
      }
      ByteBuffer buf = ByteBuffer.wrap(b);
      long kept = buf.getLong();
      long dropped = buf.getLong();
      long[] hashes = new long[buf.remaining() / 8];
      for (int i = 0; i < hashes.length; i++) {
        hashes[i] = buf.getLong();
      }
      return new Window(kept, dropped, hashes);
    }

    byte[] encode() {
      ByteBuffer buf = ByteBuffer.allocate(16 + 8 * hashes.length);
      buf.putLong(kept).putLong(dropped);
      for (long h : hashes) {
        buf.putLong(h);
      }
      return buf.array();
    }

    /** The smallest Hamming distance from {@code hash} to a remembered hash (65 when none). */
    int nearest(long hash) {
      int best = 65;
      for (long h : hashes) {
        best = Math.min(best, DHash.distance(h, hash));
      }
      return best;
    }

    Window keep(long hash, int window) {
      int n = Math.min(hashes.length + 1, window);
      long[] next = new long[n];
      System.arraycopy(hashes, hashes.length + 1 - n, next, 0, n - 1);
      next[n - 1] = hash;
      return new Window(kept + 1, dropped, next);
    }

    Window drop() {
      return new Window(kept, dropped + 1, hashes);
    }
  }

  /** The dedup store's key for a source id: the id itself, or its SHA-256 when it is long. */
  static String storeKey(String sourceId) {
    if (sourceId.length() <= MAX_STORE_KEY_CHARS) {
      return sourceId;
    }
    try {
      return "sha256:"
          + HexFormat.of()
              .formatHex(
                  MessageDigest.getInstance("SHA-256")
                      .digest(sourceId.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /**
   * Reads, normalises, dedups and forwards one {@link Outcome} per record. One instance per stream
   * task.
   */
  static final class IngestProcessor implements Processor<byte[], byte[], byte[], Outcome> {
    private final Normalizer normalizer;
    private final IngestOptions.Dedup dedup;
    private final Map<String, Object> serdeConfig;
    private final Counters counters;
    private ProcessorContext<byte[], Outcome> context;
    private FrameReader reader;
    private KeyValueStore<String, byte[]> store;

    IngestProcessor(
        Normalizer normalizer,
        IngestOptions.Dedup dedup,
        Map<String, Object> serdeConfig,
        Counters counters) {
      this.normalizer = normalizer;
      this.dedup = dedup;
      this.serdeConfig = serdeConfig;
      this.counters = counters;
    }

    @Override
    public void init(ProcessorContext<byte[], Outcome> context) {
      this.context = context;
      reader = new FrameReader(serdeConfig);
      if (dedup.enabled()) {
        store = context.getStateStore(DEDUP_STORE);
      }
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
      RecordMetadata md =
          context
              .recordMetadata()
              .orElseThrow(
                  () ->
                      new IllegalStateException("ingest processor called without a source record"));
      String where = DeadLetter.origin(md.topic(), md.partition(), md.offset());
      counters.read.incrementAndGet();
      Normalizer.Normalized n;
      try {
        ImageFrame frame = reader.read(md.topic(), record.headers(), record.value(), where);
        n = normalizer.normalize(frame, where);
      } catch (RegistryUnavailableException unavailable) {
        // Not the frame's fault: fail the task (the transaction aborts) instead of dead-lettering a
        // good frame.
        counters.registryFailures.incrementAndGet();
        throw new StreamsException(unavailable.getMessage(), unavailable);
      } catch (FrameRejectedException rejected) {
        reject(record, DeadLetter.of(rejected, where, DeadLetter.INGEST));
        return;
      } catch (
          Throwable
              t) { // NOPMD: one record's failure (a codec bug, memory for one hostile image) is
        // that record's
        reject(record, new DeadLetter(Reason.INTERNAL, where + ": " + t, where, DeadLetter.INGEST));
        return;
      }
      if (store != null) {
        String key = storeKey(n.frame().getSourceId().toString());
        Window window = Window.decode(store.get(key));
        if (window.nearest(n.hash()) <= dedup.maxDistance()) {
          store.put(key, window.drop().encode());
          counters.dropped.incrementAndGet();
          return;
        }
        store.put(key, window.keep(n.hash(), dedup.window()).encode());
      }
      counters.trained.incrementAndGet();
      counters.bytesIn.addAndGet(record.value().length);
      counters.bytesOut.addAndGet(n.frame().getData().remaining());
      context.forward(record.withValue(new Outcome.Train(n.frame())));
    }

    private void reject(Record<byte[], byte[]> record, DeadLetter letter) {
      long count = counters.rejected(letter.reason().name());
      // A garbage flood is thousands of records: the first few of each reason, then one line per
      // thousand.
      if (count <= 10 || count % 1000 == 0) {
        log.warn(
            "frame rejected to the dead-letter topic ({}, {} so far): {}",
            letter.reason(),
            count,
            letter.message());
      }
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
}
