package io.mocostream.serving.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.metrics.StandardMeters;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The service's meters. Names are Micrometer's dotted names; Prometheus sees them with underscores
 * and unit suffixes:
 *
 * <ul>
 *   <li>{@code mocostream_http_requests_total{endpoint,status}}: requests answered;
 *   <li>{@code mocostream_http_request_seconds_bucket{endpoint,le}} (with {@code _count}, {@code
 *       _sum}, {@code _max}): latency histogram, from the handler's start to the last byte of the
 *       answer;
 *   <li>{@code mocostream_http_shed_total}: requests answered 503 because every worker and queue
 *       slot, or every decode slot, was taken;
 *   <li>{@code mocostream_http_decodes_in_flight}, {@code mocostream_http_decodes_permits}: images
 *       being decoded and embedded now, and how many may be at once ({@link DecodeGate});
 *   <li>{@code mocostream_encoder_version{model}}: the version serving (0 before the first);
 *   <li>{@code mocostream_encoder_ready{model}}: 1 once a verified version serves;
 *   <li>{@code mocostream_encoder_versions_accepted_total{model}}, {@code
 *       mocostream_encoder_swaps_total{model}};
 *   <li>{@code mocostream_encoder_versions_refused_total{model,reason}}: one series per refusal
 *       reason ({@code SHA_MISMATCH}, {@code BAD_SIGNATURE}, {@code UNKNOWN_KEY}, {@code
 *       UNLOADABLE}, {@code POLICY}, ...);
 *   <li>{@code mocostream_encoder_last_swap_seconds{model}}: verification to serving of the last
 *       version;
 *   <li>{@code mocostream_encoder_embeddings_total{model}}: images embedded;
 *   <li>JVM memory, GC, threads, class loading, CPU and uptime (Micrometer's standard binders),
 *       resident and native memory ({@link StandardMeters}).
 * </ul>
 *
 * Endpoint tags are the fixed route names (unknown paths are {@code other}), so no client can grow
 * the series count.
 */
final class ServiceMetrics implements AutoCloseable {
  static final String REQUESTS = "mocostream.http.requests";
  static final String LATENCY = "mocostream.http.request";
  static final String SHED = "mocostream.http.shed";

  private final PrometheusMeterRegistry registry;
  private final StandardMeters standard;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Counter shed;

  ServiceMetrics(PrometheusMeterRegistry registry, LiveEncoder encoder, DecodeGate decodes) {
    this.registry = registry;
    Gauge.builder("mocostream.http.decodes.in.flight", decodes, DecodeGate::inFlight)
        .description("Images being decoded and embedded now")
        .register(registry);
    Gauge.builder("mocostream.http.decodes.permits", decodes, DecodeGate::permits)
        .description("Images that may be decoded and embedded at once")
        .register(registry);
    EncoderMeters.bindTo(registry, encoder);
    shed =
        Counter.builder(SHED)
            .description(
                "Requests refused with 503 because every worker and queue slot was" + " taken")
            .register(registry);
    standard = StandardMeters.bindTo(registry);
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Counts one answered request and records its latency. */
  void record(String endpoint, int status, long nanos) {
    timers
        .computeIfAbsent(
            endpoint,
            e ->
                Timer.builder(LATENCY)
                    .description("Request latency, handler start to the answer's last byte")
                    .tag("endpoint", e)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
    counters
        .computeIfAbsent(
            endpoint + ' ' + status,
            k ->
                Counter.builder(REQUESTS)
                    .description("HTTP requests answered")
                    .tags("endpoint", endpoint, "status", Integer.toString(status))
                    .register(registry))
        .increment();
  }

  void shed() {
    shed.increment();
  }

  /** The Prometheus text exposition of every meter. */
  String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    standard.close();
  }
}
