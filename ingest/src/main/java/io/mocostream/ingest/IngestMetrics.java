package io.mocostream.ingest;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.mocostream.frames.Reason;
import io.mocostream.metrics.Health;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Ingest's meters, read from {@link IngestTopology.Counters} on each scrape (every series has
 * {@code application}, the Kafka Streams application id):
 *
 * <ul>
 *   <li>{@code mocostream_ingest_records_in_total}: raw records taken from the input topic;
 *   <li>{@code mocostream_ingest_records_out_total}: training frames written;
 *   <li>{@code mocostream_ingest_duplicates_dropped_total}: near-duplicates dropped by the dedup
 *       stage;
 *   <li>{@code mocostream_ingest_dead_letters_total{reason}}: records sent to the dead-letter
 *       topic, one series per {@link Reason} code;
 *   <li>{@code mocostream_ingest_bytes_in_total}, {@code mocostream_ingest_bytes_out_total}: value
 *       bytes of the training frames before and after normalising;
 *   <li>{@code mocostream_ingest_registry_failures_total}: records held back by a registry outage
 *       (retried);
 *   <li>Kafka Streams' own metrics ({@code kafka_stream_*}, {@code kafka_consumer_*}, {@code
 *       kafka_producer_*}, ...: Micrometer's {@link KafkaStreamsMetrics}), consumer lag among them
 *       ({@code kafka_consumer_fetch_manager_records_lag_max}).
 * </ul>
 *
 * Counts are per process, like the counters (a task that aborts and redoes a record counts it
 * again). Ready ({@link #health}): the application is {@code RUNNING} (tasks assigned and
 * restored).
 */
public final class IngestMetrics implements AutoCloseable {
  private final KafkaStreamsMetrics streamsMetrics;

  private IngestMetrics(MeterRegistry registry, IngestCommand.Running running, String application) {
    IngestTopology.Counters c = running.counters();
    Tags tags = Tags.of("application", application);
    counter(
        registry,
        "mocostream.ingest.records.in",
        "Raw records taken from the input topic",
        tags,
        c,
        IngestTopology.Counters::read);
    counter(
        registry,
        "mocostream.ingest.records.out",
        "Training frames written",
        tags,
        c,
        IngestTopology.Counters::trained);
    counter(
        registry,
        "mocostream.ingest.duplicates.dropped",
        "Near-duplicate frames dropped",
        tags,
        c,
        IngestTopology.Counters::dropped);
    counter(
        registry,
        "mocostream.ingest.bytes.in",
        "Value bytes of the raw records that became training frames",
        tags,
        c,
        IngestTopology.Counters::bytesIn);
    counter(
        registry,
        "mocostream.ingest.bytes.out",
        "Value bytes of the training frames written",
        tags,
        c,
        IngestTopology.Counters::bytesOut);
    counter(
        registry,
        "mocostream.ingest.registry.failures",
        "Records held back by a schema registry outage (retried, never dead-lettered)",
        tags,
        c,
        IngestTopology.Counters::registryFailures);
    for (Reason r : Reason.values()) {
      counter(
          registry,
          "mocostream.ingest.dead.letters",
          "Records sent to the dead-letter topic, by reason",
          tags.and("reason", r.code()),
          c,
          k -> k.rejectedByReason().getOrDefault(r.name(), 0L));
    }
    streamsMetrics = new KafkaStreamsMetrics(running.streams(), tags);
    streamsMetrics.bindTo(registry);
  }

  /**
   * Binds ingest's meters and Kafka Streams' to {@code registry}; close to unbind Kafka Streams'
   * refresher.
   */
  public static IngestMetrics bind(
      MeterRegistry registry, IngestCommand.Running running, String application) {
    return new IngestMetrics(registry, running, application);
  }

  /** Ready while the application is RUNNING; the state otherwise. */
  public static Health health(IngestCommand.Running running) {
    return () -> {
      KafkaStreams.State s = running.streams().state();
      return s == KafkaStreams.State.RUNNING
          ? Health.Status.ready("RUNNING")
          : Health.Status.notReady(
              "Kafka Streams is "
                  + s
                  + (s == KafkaStreams.State.REBALANCING
                      ? " (assigning and restoring tasks)"
                      : ""));
    };
  }

  private static void counter(
      MeterRegistry registry,
      String name,
      String description,
      Tags tags,
      IngestTopology.Counters c,
      java.util.function.ToDoubleFunction<IngestTopology.Counters> f) {
    FunctionCounter.builder(name, c, f).description(description).tags(tags).register(registry);
  }

  @Override
  public void close() {
    streamsMetrics.close();
  }
}
