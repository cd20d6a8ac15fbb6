package io.mocostream.producer;

import io.mocostream.frames.FrameLimits;
import java.util.Map;
import java.util.Objects;

/**
 * Every option of {@code mocostream produce}. Start from {@link #of} and change what the command
 * line gives with the {@code with…} methods.
 *
 * @param bootstrap Kafka {@code bootstrap.servers}
 * @param registryUrl schema registry base URL
 * @param source the {@code --source} spec, see {@link SourceSpec}
 * @param topic target topic (default {@value #DEFAULT_TOPIC}); created with broker defaults when
 *     missing
 * @param sourceId record key; null picks one from the source (folder name, IDX file name,
 *     "synthetic", "upload")
 * @param rate images per second, 0 for as fast as the broker acknowledges
 * @param max stop after this many published frames, 0 for no limit
 * @param loop start the source again when it is exhausted
 * @param watch for {@code dir:}, keep watching the folder for new files
 * @param limits byte and pixel limits
 * @param seed seed of the synthetic source
 * @param progress how progress is shown
 * @param producerProps extra Kafka producer configs, applied over the defaults
 * @param uploadToken for {@code http:} sources, the bearer token every upload must carry; null:
 *     none (the endpoint then binds loopback unless told otherwise). The CLI reads it from {@code
 *     MOCOSTREAM_UPLOAD_TOKEN}, never from the command line (visible in {@code ps})
 */
public record ProduceOptions(
    String bootstrap,
    String registryUrl,
    String source,
    String topic,
    String sourceId,
    double rate,
    long max,
    boolean loop,
    boolean watch,
    FrameLimits limits,
    long seed,
    ProgressMode progress,
    Map<String, String> producerProps,
    String uploadToken) {

  public static final String DEFAULT_TOPIC = "frames.raw";

  /**
   * AUTO: a progress bar on a terminal ({@code System.console() != null}), log lines every few
   * seconds otherwise.
   */
  public enum ProgressMode {
    AUTO,
    BAR,
    LOG,
    QUIET
  }

  public ProduceOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(progress, "progress");
    if (topic.isBlank()) {
      throw new IllegalArgumentException("--topic must not be empty");
    }
    if (sourceId != null && sourceId.isBlank()) {
      throw new IllegalArgumentException("--source-id must not be empty");
    }
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException(
          "--rate must be a finite number ≥ 0 (0 = unlimited), got " + rate);
    }
    if (max < 0) {
      throw new IllegalArgumentException("--max must be ≥ 0 (0 = unlimited), got " + max);
    }
    producerProps = producerProps == null ? Map.of() : Map.copyOf(producerProps);
    if (uploadToken != null && uploadToken.isBlank()) {
      throw new IllegalArgumentException(
          "the upload token is blank; leave it unset to disable authentication");
    }
  }

  public static ProduceOptions of(String bootstrap, String registryUrl, String source) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        DEFAULT_TOPIC,
        null,
        0,
        0,
        false,
        false,
        FrameLimits.DEFAULT,
        0,
        ProgressMode.AUTO,
        Map.of(),
        null);
  }

  public ProduceOptions withTopic(String v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        v,
        sourceId,
        rate,
        max,
        loop,
        watch,
        limits,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withSourceId(String v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        v,
        rate,
        max,
        loop,
        watch,
        limits,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withRate(double v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        v,
        max,
        loop,
        watch,
        limits,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withMax(long v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        v,
        loop,
        watch,
        limits,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withLoop(boolean v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        v,
        watch,
        limits,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withWatch(boolean v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        loop,
        v,
        limits,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withLimits(FrameLimits v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        loop,
        watch,
        v,
        seed,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withSeed(long v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        loop,
        watch,
        limits,
        v,
        progress,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withProgress(ProgressMode v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        loop,
        watch,
        limits,
        seed,
        v,
        producerProps,
        uploadToken);
  }

  public ProduceOptions withUploadToken(String v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        loop,
        watch,
        limits,
        seed,
        progress,
        producerProps,
        v);
  }

  /** Never prints the token. */
  @Override
  public String toString() {
    return "ProduceOptions[bootstrap="
        + bootstrap
        + ", registry="
        + registryUrl
        + ", source="
        + source
        + ", topic="
        + topic
        + ", sourceId="
        + sourceId
        + ", rate="
        + rate
        + ", max="
        + max
        + ", loop="
        + loop
        + ", watch="
        + watch
        + ", limits="
        + limits
        + ", seed="
        + seed
        + ", progress="
        + progress
        + ", producerProps="
        + producerProps
        + ", uploadToken="
        + (uploadToken == null ? "none" : "set")
        + "]";
  }

  public ProduceOptions withProducerProps(Map<String, String> v) {
    return new ProduceOptions(
        bootstrap,
        registryUrl,
        source,
        topic,
        sourceId,
        rate,
        max,
        loop,
        watch,
        limits,
        seed,
        progress,
        v,
        uploadToken);
  }
}
