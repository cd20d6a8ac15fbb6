package io.mocostream.ingest;

import io.mocostream.metrics.CommandMetrics;
import io.mocostream.metrics.MetricsEndpoint;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mocostream ingest}: the Kafka Streams application of {@link IngestTopology}, from the raw
 * frames topic to the training topic.
 *
 * <p>Exactly-once ({@code processing.guarantee=exactly_once_v2}): each training frame or dead
 * letter, and each dedup store update, is written in the same transaction as the consumer offset of
 * its raw record. More instances with the same application id share the input's partitions (one
 * stream task per partition), so ingest scales by starting instances, up to the partition count.
 *
 * <p>Start-up: the input topic must exist; the training and dead-letter topics are created when
 * missing with the input's partition count (keys keep their partition) and a {@code
 * max.message.bytes} that holds any record the input holds (a dead letter is the original, byte for
 * byte).
 *
 * <p>A stream thread that fails (the registry or the broker unreachable: per-record failures never
 * get here) is replaced after a backoff that doubles up to {@value #MAX_BACKOFF_SECONDS} s, for as
 * long as it takes: an outage pauses ingest, it never stops it or turns good frames into dead
 * letters.
 */
public final class IngestCommand {
  static final int PROGRESS_SECONDS = 10;
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(PROGRESS_SECONDS);
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
  static final long MAX_BACKOFF_SECONDS = 30;

  /**
   * Room above the input's record size for the dead-letter headers (a message of ≤ 2,000
   * characters, ...).
   */
  static final int DLQ_HEADROOM_BYTES = 64 * 1024;

  static final int PRODUCER_BATCH_BYTES = 512 * 1024;

  /**
   * One transaction a second per stream thread, not Kafka Streams' exactly-once default of ten:
   * each commit flushes the producer and waits for it, then adds the offsets to the transaction and
   * ends it, and the broker writes a marker into every partition the transaction touched. Measured
   * on {@code bench ingest} (28×28 frames, 2 stream threads): 100 ms cost ≈ 18 µs of broker
   * request-handler CPU per frame, 1 s ≈ 7. The cost is latency: a read_committed trainer sees a
   * frame up to a second later, nothing next to a training step; after a crash up to a second of
   * frames is processed again (the aborted transaction's output is never seen). Override with
   * {@code commit.interval.ms} in {@link IngestOptions#streamsConfig()}.
   */
  public static final long COMMIT_INTERVAL_MS = 1000;

  private static final Logger log = LoggerFactory.getLogger(IngestCommand.class);

  private IngestCommand() {}

  /** A started application: its streams and counters. Close it to stop. */
  public static final class Running implements AutoCloseable {
    private final KafkaStreams streams;
    private final IngestTopology.Counters counters;
    private final IngestOptions options;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final long startNanos = System.nanoTime();
    private volatile Throwable failure;
    private volatile long lastDone;
    private volatile long lastNanos = startNanos;

    Running(KafkaStreams streams, IngestTopology.Counters counters, IngestOptions options) {
      this.streams = streams;
      this.counters = counters;
      this.options = options;
    }

    public KafkaStreams streams() {
      return streams;
    }

    public IngestTopology.Counters counters() {
      return counters;
    }

    /** The error that stopped the application, if one did. */
    public Optional<Throwable> failure() {
      return Optional.ofNullable(failure);
    }

    /**
     * Waits until the application stops (error or close); true when it did within {@code timeout}.
     */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
      return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Waits until the application is RUNNING (tasks assigned); false on timeout or when it stopped.
     */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (streams.state() != KafkaStreams.State.RUNNING) {
        if (System.nanoTime() > deadline || stopped.getCount() == 0) {
          return false;
        }
        Thread.sleep(50);
      }
      return true;
    }

    /**
     * The exact, committed-state counts of the dedup stores of the tasks this instance runs now:
     * source → {kept, dropped}, summed over partitions. Empty when dedup is off.
     */
    public Map<String, long[]> dedupCounts() {
      Map<String, long[]> out = new TreeMap<>();
      if (!options.dedup().enabled()) {
        return out;
      }
      ReadOnlyKeyValueStore<String, byte[]> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  IngestTopology.DEDUP_STORE, QueryableStoreTypes.<String, byte[]>keyValueStore()));
      try (KeyValueIterator<String, byte[]> it = store.all()) {
        while (it.hasNext()) {
          KeyValue<String, byte[]> kv = it.next();
          IngestTopology.Window w = IngestTopology.Window.decode(kv.value);
          // A source keyed onto several partitions has a window in each task's store: add them up.
          out.merge(
              kv.key,
              new long[] {w.kept(), w.dropped()},
              (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        }
      }
      return out;
    }

    /**
     * {@code read=… trained=… dropped_duplicates=… rejected=… frames_s=… by_reason={…}}, the rate
     * since the last line.
     */
    public synchronized String progressLine() {
      long now = System.nanoTime();
      long done = counters.done();
      double rate = (done - lastDone) / Math.max(1e-9, (now - lastNanos) / 1e9);
      lastDone = done;
      lastNanos = now;
      long in = counters.bytesIn();
      return String.format(
          Locale.ROOT,
          "ingest: read=%d trained=%d dropped_duplicates=%d rejected=%d frames_s=%.1f"
              + " bytes_out_vs_in=%s by_reason=%s",
          counters.read(),
          counters.trained(),
          counters.dropped(),
          counters.rejected(),
          rate,
          in == 0 ? "-" : String.format(Locale.ROOT, "%.3f", (double) counters.bytesOut() / in),
          new TreeMap<>(counters.rejectedByReason()));
    }

    @Override
    public synchronized void close() {
      try {
        streams.close(CLOSE_TIMEOUT);
      } finally {
        stopped.countDown();
      }
    }
  }

  /**
   * Runs until the JVM shuts down (Ctrl-C: a shutdown hook closes the application cleanly) or the
   * application fails, printing a progress line every {@value #PROGRESS_SECONDS} seconds.
   *
   * @return 0 after a clean stop, 1 when the application failed
   * @throws IllegalArgumentException when the input topic does not exist
   */
  public static int run(IngestOptions o, PrintStream out) throws InterruptedException {
    return run(o, MetricsEndpoint.OFF, out);
  }

  /**
   * {@link #run(IngestOptions, PrintStream)} with Prometheus metrics and health probes on {@code
   * metrics} (see {@link IngestMetrics}): live from the start, ready while the application is
   * RUNNING.
   */
  public static int run(IngestOptions o, MetricsEndpoint metrics, PrintStream out)
      throws InterruptedException {
    try (CommandMetrics meters = CommandMetrics.start(metrics, "starting: checking topics")) {
      Running running = start(o, out);
      meters.health(IngestMetrics.health(running));
      try (IngestMetrics bound =
          IngestMetrics.bind(meters.registry(), running, o.applicationId())) {
        return run(running, out);
      }
    }
  }

  private static int run(Running running, PrintStream out) throws InterruptedException {
    Thread hook = new Thread(running::close, "ingest-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      while (!running.awaitStopped(PROGRESS_EVERY)) {
        out.println(running.progressLine());
        out.flush();
      }
    } finally {
      running.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
    out.println(running.progressLine());
    if (running.failure().isPresent()) {
      out.println("ingest failed: " + running.failure().get());
      return 1;
    }
    return 0;
  }

  /**
   * Checks and creates the topics, then starts the Kafka Streams application. The caller closes
   * what this returns.
   */
  public static Running start(IngestOptions o, PrintStream out) {
    long maxRecord = ensureTopics(o);
    IngestTopology.Counters counters = new IngestTopology.Counters();
    KafkaStreams streams =
        new KafkaStreams(
            IngestTopology.build(new StreamsBuilder(), o, counters),
            streamsProperties(o, maxRecord));
    Running running = new Running(streams, counters, o);
    AtomicInteger failures = new AtomicInteger();
    streams.setUncaughtExceptionHandler(
        e -> {
          int n = failures.incrementAndGet();
          long backoff = Math.min(MAX_BACKOFF_SECONDS, 1L << Math.min(n - 1, 5));
          log.error(
              "ingest stream thread failed ({} in a row), replacing it in {} s: {}",
              n,
              backoff,
              e.toString(),
              e);
          try {
            Thread.sleep(backoff * 1000);
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
          }
          return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    streams.setStateListener(
        (now, before) -> {
          log.info("ingest {} -> {}", before, now);
          if (now == KafkaStreams.State.RUNNING) {
            failures.set(0);
          }
          if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
            if (now == KafkaStreams.State.ERROR) {
              running.failure = new IllegalStateException("Kafka Streams entered ERROR");
            }
            running.stopped.countDown();
          }
        });
    streams.start();
    out.printf(
        Locale.ROOT,
        "ingest %s: %s -> %s (dead letters: %s), shorter side %d px, %s, dedup %s, "
            + "exactly_once_v2%n",
        o.applicationId(),
        o.inTopic(),
        o.outTopic(),
        o.dlqTopic(),
        o.size(),
        o.format(),
        o.dedup().enabled()
            ? "distance <= "
                + o.dedup().maxDistance()
                + " over the last "
                + o.dedup().window()
                + " kept frames per source"
            : "off");
    out.flush();
    return running;
  }

  /**
   * Kafka Streams settings: exactly_once_v2, byte-array serdes, record sizes, then the options'
   * streamsConfig.
   */
  public static Properties streamsProperties(IngestOptions o, long maxRecordBytes) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, COMMIT_INTERVAL_MS);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, o.replicationFactor());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, o.threads());
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    // A dead letter is the raw record, up to the input topic's size: the producer must be allowed
    // to send it.
    p.put(
        StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
        (int) Math.min(Integer.MAX_VALUE, maxRecordBytes + DLQ_HEADROOM_BYTES));
    // The producer's batching (512 KiB batches), not Kafka's 16 KiB default: a poll of small frames
    // fills few requests.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), PRODUCER_BATCH_BYTES);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    if (o.stateDir() != null) {
      p.put(StreamsConfig.STATE_DIR_CONFIG, o.stateDir().toAbsolutePath().toString());
    }
    p.putAll(o.streamsConfig());
    return p;
  }

  /**
   * Security, TLS, SASL and registry-authentication settings of {@link
   * IngestOptions#streamsConfig()}, which the admin client needs too.
   */
  static Map<String, Object> connectionConfig(IngestOptions o) {
    Map<String, Object> config = new HashMap<>();
    o.streamsConfig()
        .forEach(
            (k, v) -> {
              if (k.startsWith("security.") || k.startsWith("ssl.") || k.startsWith("sasl.")) {
                config.put(k, v);
              }
            });
    return config;
  }

  /**
   * The input topic must exist (a typo would otherwise wait forever); the training and dead-letter
   * topics are created with its partition count when missing, with a {@code max.message.bytes}
   * above the input's (and above the largest training frame {@code --size} allows).
   *
   * @return the largest record the outputs must take: the input topic's {@code max.message.bytes}
   *     or the largest training frame, whichever is larger
   */
  static long ensureTopics(IngestOptions o) {
    Map<String, Object> config = connectionConfig(o);
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    try (Admin admin = Admin.create(config)) {
      TopicDescription in;
      try {
        in =
            admin
                .describeTopics(List.of(o.inTopic()))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(o.inTopic());
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UnknownTopicOrPartitionException) {
          throw new IllegalArgumentException(
              "input topic "
                  + o.inTopic()
                  + " does not exist on "
                  + o.bootstrap()
                  + "; produce frames to it first or name another with --in");
        }
        throw new IllegalStateException(
            "cannot describe input topic " + o.inTopic() + ": " + e.getCause(), e.getCause());
      }
      int partitions = in.partitions().size();
      long inMax = maxMessageBytes(admin, o.inTopic()).orElse(1_048_588L);
      // RAW_RGB at the largest aspect: size × 4·size × 3 bytes, plus what the frame's other fields
      // may carry (≤ inMax).
      long largestFrame = 12L * o.size() * o.size() + inMax;
      long maxRecord = Math.max(inMax, largestFrame);
      String maxMessage =
          Long.toString(Math.min(Integer.MAX_VALUE, maxRecord + DLQ_HEADROOM_BYTES));
      Optional<Short> rf =
          o.replicationFactor() == -1
              ? Optional.empty()
              : Optional.of((short) o.replicationFactor());
      Collection<NewTopic> wanted = new ArrayList<>();
      for (String t : List.of(o.outTopic(), o.dlqTopic())) {
        wanted.add(
            new NewTopic(t, Optional.of(partitions), rf)
                .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxMessage)));
      }
      for (var entry : admin.createTopics(wanted).values().entrySet()) {
        try {
          entry.getValue().get(30, TimeUnit.SECONDS);
          log.info(
              "created topic {} with {} partitions, max.message.bytes={}",
              entry.getKey(),
              partitions,
              maxMessage);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "cannot create topic " + entry.getKey() + ": " + e.getCause(), e.getCause());
          }
          long existing = maxMessageBytes(admin, entry.getKey()).orElse(1_048_588L);
          if (existing < inMax) {
            log.warn(
                "topic {} has max.message.bytes={} below the input's {}: a dead letter or frame larger than that"
                    + " will stop ingest until the topic is raised",
                entry.getKey(),
                existing,
                inMax);
          }
        }
      }
      return maxRecord;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted checking the ingest topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("broker " + o.bootstrap() + " did not answer within 30 s", e);
    }
  }

  private static Optional<Long> maxMessageBytes(Admin admin, String topic)
      throws InterruptedException, TimeoutException {
    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try {
      Config c = admin.describeConfigs(List.of(res)).all().get(30, TimeUnit.SECONDS).get(res);
      ConfigEntry e = c == null ? null : c.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
      return e == null || e.value() == null
          ? Optional.empty()
          : Optional.of(Long.parseLong(e.value()));
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "cannot describe the configuration of topic " + topic + ": " + e.getCause(),
          e.getCause());
    }
  }
}
