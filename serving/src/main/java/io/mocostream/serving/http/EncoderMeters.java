package io.mocostream.serving.http;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.live.LiveEncoder;

/**
 * The meters of a {@link LiveEncoder}, shared by {@code serve} and {@code embed-stream} (every
 * series has {@code model}):
 *
 * <ul>
 *   <li>{@code mocostream_encoder_version}: the version in use (0 before the first);
 *   <li>{@code mocostream_encoder_ready}: 1 once a verified version is in use;
 *   <li>{@code mocostream_encoder_versions_accepted_total}, {@code mocostream_encoder_swaps_total};
 *   <li>{@code mocostream_encoder_versions_refused_total{reason}}: one series per refusal reason;
 *   <li>{@code mocostream_encoder_last_swap_seconds}: verification to use of the last version;
 *   <li>{@code mocostream_encoder_embeddings_total}: images embedded.
 * </ul>
 */
public final class EncoderMeters {
  private EncoderMeters() {}

  public static void bindTo(MeterRegistry registry, LiveEncoder encoder) {
    String model = encoder.model();
    Gauge.builder(
            "mocostream.encoder.version",
            encoder,
            e -> e.current().map(c -> (double) c.version()).orElse(0.0))
        .description("Encoder version in use (0 before the first verified version)")
        .tag("model", model)
        .register(registry);
    Gauge.builder("mocostream.encoder.ready", encoder, e -> e.current().isPresent() ? 1 : 0)
        .description("1 once a verified encoder version is in use")
        .tag("model", model)
        .register(registry);
    FunctionCounter.builder(
            "mocostream.encoder.versions.accepted", encoder, e -> e.stats().accepted())
        .description("Encoder versions put into use")
        .tag("model", model)
        .register(registry);
    FunctionCounter.builder("mocostream.encoder.swaps", encoder, e -> e.stats().swaps())
        .description("Times the version in use was replaced")
        .tag("model", model)
        .register(registry);
    for (RefusedVersion.Reason reason : RefusedVersion.Reason.values()) {
      FunctionCounter.builder(
              "mocostream.encoder.versions.refused", encoder, e -> e.stats().refused(reason))
          .description("Encoder versions not used, by reason")
          .tags("model", model, "reason", reason.name())
          .register(registry);
    }
    Gauge.builder("mocostream.encoder.last.swap", encoder, e -> lastSwapSeconds(e.stats()))
        .description("Seconds from verification to use of the last version")
        .baseUnit("seconds")
        .tag("model", model)
        .register(registry);
    FunctionCounter.builder("mocostream.encoder.embeddings", encoder, e -> e.stats().embeddings())
        .description("Images embedded")
        .tag("model", model)
        .register(registry);
  }

  private static double lastSwapSeconds(LiveEncoder.Stats s) {
    return s.lastSwapMillis() < 0 ? Double.NaN : s.lastSwapMillis() / 1000.0;
  }
}
