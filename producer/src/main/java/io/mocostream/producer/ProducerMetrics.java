package io.mocostream.producer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.mocostream.frames.Reason;
import io.mocostream.metrics.Health;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code produce}'s meters (every series has {@code topic}):
 *
 * <ul>
 *   <li>{@code mocostream_producer_frames_published_total}: frames the broker acknowledged;
 *   <li>{@code mocostream_producer_bytes_published_total}: their value bytes;
 *   <li>{@code mocostream_producer_frames_refused_total{reason}}: inputs refused before publishing,
 *       one series per {@link Reason} code (a bad file or upload is counted here and never sent);
 *   <li>{@code mocostream_producer_frames_in_flight}: sent, not yet acknowledged;
 *   <li>{@code mocostream_producer_ack_seconds}: histogram of send-to-acknowledgement latency
 *       (acks=all).
 * </ul>
 *
 * Ready ({@link #health}): the broker, registry and topic checked out and the run takes frames.
 */
final class ProducerMetrics {
  private ProducerMetrics() {}

  static void bind(MeterRegistry registry, ProduceRun run, String topic) {
    Tags tags = Tags.of("topic", topic);
    FunctionCounter.builder("mocostream.producer.frames.published", run, ProduceRun::published)
        .description("Frames acknowledged by the broker")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder("mocostream.producer.bytes.published", run, ProduceRun::bytesPublished)
        .description("Value bytes of the acknowledged frames")
        .tags(tags)
        .register(registry);
    for (Reason r : Reason.values()) {
      FunctionCounter.builder("mocostream.producer.frames.refused", run, x -> x.refused(r))
          .description("Inputs refused before publishing, by reason")
          .tags(tags.and("reason", r.code()))
          .register(registry);
    }
    Gauge.builder("mocostream.producer.frames.in.flight", run, ProduceRun::inFlight)
        .description("Frames sent and not yet acknowledged")
        .tags(tags)
        .register(registry);
    Timer acks =
        Timer.builder("mocostream.producer.ack")
            .description("Send to acknowledgement of one frame")
            .tags(tags)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofMinutes(2))
            .register(registry);
    run.onAckLatency(n -> acks.record(n, TimeUnit.NANOSECONDS));
  }

  static Health health(ProduceRun run, String description) {
    return () ->
        run.active()
            ? Health.Status.ready("publishing from " + description)
            : Health.Status.notReady("stopped");
  }
}
