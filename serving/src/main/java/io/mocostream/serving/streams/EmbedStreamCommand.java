package io.mocostream.serving.streams;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.mocostream.encoder.client.ModelSource;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.live.CurrentVersion;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.frames.Reason;
import io.mocostream.metrics.CommandMetrics;
import io.mocostream.metrics.Health;
import io.mocostream.metrics.MetricsEndpoint;
import io.mocostream.registry.client.ClientSettings;
import io.mocostream.serving.http.EncoderMeters;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mocostream embed-stream}: a Kafka Streams application ({@link EmbedTopology}) that embeds
 * every frame with the model's current verified encoder version and follows new versions without a
 * restart.
 *
 * <p>Exactly-once ({@code processing.guarantee=exactly_once_v2}): each embedding or dead-letter
 * record is written in the same transaction as the consumer offset of its frame, so after a crash
 * no frame is embedded twice or skipped in the committed output. The version that computed a vector
 * is in the record, so a replay with another version is visible as such.
 *
 * <p>Start-up: the input topic must exist; the output and dead-letter topics are created when
 * missing with the input's partition count (keys keep their partition). Streams starts only once
 * the live encoder serves a verified version, so that no frame meets an encoder that is not ready.
 */
public final class EmbedStreamCommand {
  /**
   * Records per poll. Kafka's default of 1000 frames takes tens of seconds to embed on a CPU, all
   * inside one transaction; 100 keeps a poll's work to a few seconds and transactions short.
   */
  public static final int DEFAULT_MAX_POLL_RECORDS = 100;

  /**
   * Stream threads replaced after an unexpected error (registry down, ...) before the application
   * gives up.
   */
  public static final int MAX_THREAD_REPLACEMENTS = 5;

  static final int PROGRESS_SECONDS = 10;
  static final Duration PROGRESS_EVERY = Duration.ofSeconds(PROGRESS_SECONDS);
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(EmbedStreamCommand.class);

  private EmbedStreamCommand() {}

  /**
   * A started application: its streams, its live encoder and its counters. Close it to stop both.
   */
  public static final class Running implements AutoCloseable {
    private final KafkaStreams streams;
    private final LiveEncoder encoder;
    private final EmbedTopology.Counters counters;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Throwable failure;

    Running(KafkaStreams streams, LiveEncoder encoder, EmbedTopology.Counters counters) {
      this.streams = streams;
      this.encoder = encoder;
      this.counters = counters;
    }

    public KafkaStreams streams() {
      return streams;
    }

    public LiveEncoder encoder() {
      return encoder;
    }

    public EmbedTopology.Counters counters() {
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

    @Override
    public synchronized void close() {
      try {
        streams.close(CLOSE_TIMEOUT);
      } finally {
        encoder.close();
        stopped.countDown();
      }
    }
  }

  /**
   * Runs until the JVM shuts down (Ctrl-C: a shutdown hook closes the application cleanly) or the
   * application fails, printing a progress line every {@value #PROGRESS_SECONDS} seconds.
   *
   * @return 0 after a clean stop, 1 when the application failed
   * @throws IllegalArgumentException when the trusted keys cannot be loaded or the input topic does
   *     not exist
   * @throws IllegalStateException when no verified version arrives within {@link
   *     EmbedOptions#readyTimeout()}
   */
  public static int run(EmbedOptions o, PrintStream out) throws InterruptedException {
    return run(o, MetricsEndpoint.OFF, out);
  }

  /**
   * {@link #run(EmbedOptions, PrintStream)} with Prometheus metrics and health probes on {@code
   * metrics}: live from the start, ready while the live encoder has a verified version and Kafka
   * Streams is RUNNING. Series: the encoder's ({@link EncoderMeters}), {@code
   * mocostream_embed_records_out_total{application}} (embeddings written), {@code
   * mocostream_embed_dead_letters_total{application,reason}}, and Kafka Streams' own.
   */
  public static int run(EmbedOptions o, MetricsEndpoint metrics, PrintStream out)
      throws InterruptedException {
    try (CommandMetrics meters =
        CommandMetrics.start(
            metrics, "starting: waiting for a verified version of model " + o.model())) {
      Running running = start(o, out);
      try (KafkaStreamsMetrics streamsMetrics =
          bind(meters.registry(), running, o.applicationId())) {
        meters.health(
            () -> {
              KafkaStreams.State s = running.streams().state();
              if (running.encoder().current().isEmpty()) {
                return Health.Status.notReady(
                    "no verified version of model " + o.model() + " in use");
              }
              return s == KafkaStreams.State.RUNNING
                  ? Health.Status.ready(
                      "RUNNING with version " + running.encoder().current().get().version())
                  : Health.Status.notReady("Kafka Streams is " + s);
            });
        return run(running, out);
      }
    }
  }

  private static KafkaStreamsMetrics bind(
      MeterRegistry registry, Running running, String application) {
    EncoderMeters.bindTo(registry, running.encoder());
    Tags tags = Tags.of("application", application);
    FunctionCounter.builder(
            "mocostream.embed.records.out", running.counters(), EmbedTopology.Counters::embedded)
        .description("Embeddings written")
        .tags(tags)
        .register(registry);
    for (Reason r : Reason.values()) {
      FunctionCounter.builder(
              "mocostream.embed.dead.letters",
              running.counters(),
              c -> c.rejectedByReason().getOrDefault(r.name(), 0L))
          .description("Frames sent to the dead-letter topic, by reason")
          .tags(tags.and("reason", r.code()))
          .register(registry);
    }
    KafkaStreamsMetrics streamsMetrics = new KafkaStreamsMetrics(running.streams(), tags);
    streamsMetrics.bindTo(registry);
    return streamsMetrics;
  }

  private static int run(Running running, PrintStream out) throws InterruptedException {
    Thread hook = new Thread(running::close, "embed-stream-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      while (!running.awaitStopped(PROGRESS_EVERY)) {
        out.println(progressLine(running));
        out.flush();
      }
    } finally {
      running.close(); // after a failure too: the encoder's native memory and the streams' threads
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
    out.println(progressLine(running));
    if (running.failure().isPresent()) {
      out.println("embed-stream failed: " + running.failure().get());
      return 1;
    }
    return 0;
  }

  /** {@code embedded=<n> rejected=<n> version=<v|-> swaps=<n> refused_versions=<n>}. */
  public static String progressLine(Running r) {
    return "embedded="
        + r.counters().embedded()
        + " rejected="
        + r.counters().rejected()
        + " version="
        + r.encoder().current().map(c -> Long.toString(c.version())).orElse("-")
        + " swaps="
        + r.encoder().swapCount()
        + " refused_versions="
        + r.encoder().refusedCount();
  }

  /**
   * Checks the topics, starts the live encoder, waits for a verified version, then starts the Kafka
   * Streams application. The caller closes what this returns.
   */
  public static Running start(EmbedOptions o, PrintStream out) {
    ModelSource source =
        ModelSource.of(o.bootstrap(), o.registryUrl(), o.model())
            .withTopic(o.modelTopic())
            .withTrust(TrustedKeys.load(o.trust()))
            .withClientOverrides(connectionConfig(o));
    ensureTopics(o);
    LiveEncoder encoder =
        LiveEncoder.builder(source)
            .policy(o.policy())
            .decodeLimits(o.limits())
            .highWaterMarks(o.highWaterFile())
            .maxAge(o.maxAge())
            .build()
            .start();
    try {
      awaitFirstVersion(encoder, o, out);
      EmbedTopology.Counters counters = new EmbedTopology.Counters();
      Topology topology =
          EmbedTopology.build(
              new StreamsBuilder(), o, new LiveEmbedder(encoder, o.limits()), counters);
      KafkaStreams streams = new KafkaStreams(topology, streamsProperties(o));
      Running running = new Running(streams, encoder, counters);
      AtomicInteger replaced = new AtomicInteger();
      streams.setUncaughtExceptionHandler(
          e -> {
            if (replaced.incrementAndGet() <= MAX_THREAD_REPLACEMENTS) {
              log.error(
                  "embed-stream thread failed ({} of {} replacements): {}",
                  replaced.get(),
                  MAX_THREAD_REPLACEMENTS,
                  e.toString(),
                  e);
              return StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            running.failure = e;
            log.error(
                "embed-stream failed {} times; stopping: {}", replaced.get(), e.toString(), e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
          });
      streams.setStateListener(
          (now, before) -> {
            log.info("embed-stream {} -> {}", before, now);
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
              running.stopped.countDown();
            }
          });
      streams.start();
      out.println(
          "embed-stream "
              + o.applicationId()
              + ": "
              + o.inTopic()
              + " -> "
              + o.outTopic()
              + " (dead letters: "
              + o.dlqTopic()
              + "), model "
              + o.model()
              + " version "
              + encoder.current().map(CurrentVersion::version).orElseThrow()
              + ", exactly_once_v2");
      out.flush();
      return running;
    } catch (RuntimeException e) {
      encoder.close();
      throw e;
    }
  }

  private static void awaitFirstVersion(LiveEncoder encoder, EmbedOptions o, PrintStream out) {
    if (o.readyTimeout() != null) {
      if (!encoder.awaitReady(o.readyTimeout())) {
        throw new IllegalStateException(
            "no verified version of model "
                + o.model()
                + " on "
                + o.modelTopic()
                + " within "
                + o.readyTimeout().toSeconds()
                + " s"
                + encoder.lastError().map(e -> " (last error: " + e + ")").orElse("")
                + "; refused so far: "
                + encoder.stats().refusedByReason());
      }
      return;
    }
    while (!encoder.awaitReady(Duration.ofSeconds(30))) {
      if (Thread.currentThread().isInterrupted()) {
        throw new IllegalStateException("interrupted waiting for a version of model " + o.model());
      }
      out.println(
          "waiting for a verified version of model "
              + o.model()
              + " on "
              + o.modelTopic()
              + " (refused so far: "
              + encoder.refusedCount()
              + ")");
      out.flush();
    }
  }

  /**
   * Kafka Streams settings: exactly_once_v2, byte-array default serdes, then {@link
   * EmbedOptions#streamsConfig()}.
   */
  public static Properties streamsProperties(EmbedOptions o) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, o.applicationId());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, o.replicationFactor());
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, o.threads());
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
    p.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG),
        DEFAULT_MAX_POLL_RECORDS);
    if (o.stateDir() != null) {
      p.put(StreamsConfig.STATE_DIR_CONFIG, o.stateDir().toAbsolutePath().toString());
    }
    p.putAll(o.streamsConfig());
    return p;
  }

  /**
   * The settings of {@link EmbedOptions#streamsConfig()} that the other clients (the live encoder's
   * consumer and registry client, the admin client) need too: security, TLS, SASL and registry
   * authentication. Stream-processing settings stay with Kafka Streams.
   */
  static Map<String, Object> connectionConfig(EmbedOptions o) {
    Map<String, Object> config = new java.util.HashMap<>();
    o.streamsConfig()
        .forEach(
            (k, v) -> {
              if (k.startsWith("security.")
                  || k.startsWith("ssl.")
                  || k.startsWith("sasl.")
                  || k.startsWith("schema.registry.")
                  || k.startsWith("basic.auth.")
                  || k.startsWith("bearer.auth.")) {
                config.put(k, v);
              }
            });
    return config;
  }

  /**
   * The input topic must exist (a typo would otherwise wait forever); output and dead-letter topics
   * that exist are described, not created (a least-privilege principal has no CREATE right), and
   * those missing are created with the input's partition count. A denied right fails with the ACL
   * it needs.
   */
  static void ensureTopics(EmbedOptions o) {
    Map<String, Object> config = connectionConfig(o);
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    ClientSettings who = ClientSettings.of(strings(config));
    try (Admin admin = Admin.create(config)) {
      TopicDescription in = describe(admin, o.inTopic(), who);
      if (in == null) {
        throw new IllegalArgumentException(
            "input topic "
                + o.inTopic()
                + " does not exist on "
                + o.bootstrap()
                + "; produce frames to it first or name another with --in");
      }
      int partitions = in.partitions().size();
      Optional<Short> rf =
          o.replicationFactor() == -1
              ? Optional.empty()
              : Optional.of((short) o.replicationFactor());
      Collection<NewTopic> wanted = new ArrayList<>();
      for (String t : List.of(o.outTopic(), o.dlqTopic())) {
        if (describe(admin, t, who) == null) {
          wanted.add(new NewTopic(t, Optional.of(partitions), rf));
        }
      }
      for (var entry : admin.createTopics(wanted).values().entrySet()) {
        try {
          entry.getValue().get(30, TimeUnit.SECONDS);
          log.info("created topic {} with {} partitions", entry.getKey(), partitions);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            String denied = who.denied(e.getCause(), "CREATE", "topic " + entry.getKey());
            throw new IllegalStateException(
                denied != null
                    ? denied + "; or create the topic in advance"
                    : "cannot create topic " + entry.getKey() + ": " + e.getCause(),
                e.getCause());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted checking the embed-stream topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("broker " + o.bootstrap() + " did not answer within 30 s", e);
    }
  }

  /** The topic's description, or null when it does not exist; a denied DESCRIBE names the ACL. */
  private static TopicDescription describe(Admin admin, String topic, ClientSettings who)
      throws InterruptedException, TimeoutException {
    try {
      return admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return null;
      }
      String denied = who.denied(e.getCause(), "DESCRIBE", "topic " + topic);
      throw new IllegalStateException(
          denied != null ? denied : "cannot describe topic " + topic + ": " + e.getCause(),
          e.getCause());
    }
  }

  private static Map<String, String> strings(Map<String, Object> m) {
    Map<String, String> out = new java.util.HashMap<>();
    m.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }
}
