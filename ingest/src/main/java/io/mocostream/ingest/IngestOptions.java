package io.mocostream.ingest;

import io.mocostream.frames.FrameLimits;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Options of {@link IngestCommand} ({@code mocostream ingest}) and {@link IngestTopology}.
 *
 * @param bootstrap Kafka bootstrap servers
 * @param registryUrl schema registry URL
 * @param inTopic raw frames; null means {@value #DEFAULT_IN_TOPIC}
 * @param outTopic training frames; null means {@value #DEFAULT_OUT_TOPIC}
 * @param dlqTopic dead letters; null means {@value #DEFAULT_DLQ_TOPIC}
 * @param applicationId Kafka Streams {@code application.id} (consumer group, transactional ids, the
 *     dedup store's changelog); null means {@value #DEFAULT_APPLICATION_ID}
 * @param stateDir Kafka Streams {@code state.dir}; null keeps Kafka Streams' default
 * @param replicationFactor of the internal topics and of the topics this command creates; -1 = the
 *     broker's default
 * @param threads {@code num.stream.threads} per instance
 * @param size shorter side of the training resolution in pixels (never upscaled)
 * @param format how resized frames are written
 * @param dedup the near-duplicate filter
 * @param limits byte and pixel limits of the frame contract
 * @param decodePixels most pixels one decode allocates (larger frames are subsampled by a whole
 *     step first)
 * @param streamsConfig further Kafka Streams, client and registry settings; they win over the
 *     defaults
 */
public record IngestOptions(
    String bootstrap,
    String registryUrl,
    String inTopic,
    String outTopic,
    String dlqTopic,
    String applicationId,
    Path stateDir,
    int replicationFactor,
    int threads,
    int size,
    Normalizer.OutputFormat format,
    Dedup dedup,
    FrameLimits limits,
    long decodePixels,
    Map<String, String> streamsConfig) {

  public static final String DEFAULT_IN_TOPIC = "frames.raw";
  public static final String DEFAULT_OUT_TOPIC = "frames.train";
  public static final String DEFAULT_DLQ_TOPIC = "frames.dlq";
  public static final String DEFAULT_APPLICATION_ID = "mocostream-ingest";

  /**
   * 64 px on the shorter side: RandomResizedCrop at scale 0.2 of a 64 px frame still has ≈ 29 px of
   * side to crop from, enough for the default 32 px encoder input, and a 640×480 camera frame
   * becomes 85×64 (16 KiB as RGB).
   */
  public static final int DEFAULT_SIZE = 64;

  /** Largest --size: a training frame is then at most 1024 × 4096 × 3 bytes (12 MiB). */
  public static final int MAX_SIZE = 1024;

  /**
   * The near-duplicate filter: a frame whose dHash is within {@code maxDistance} bits of one of the
   * last {@code window} frames KEPT from the same source is dropped (and counted). Compared with
   * kept frames only, so a slowly drifting scene passes a frame again once it has drifted far
   * enough from the last one kept.
   *
   * @param enabled false keeps every frame
   * @param maxDistance Hamming distance (0..64) at or below which two frames are near-duplicates
   * @param window kept hashes remembered per source
   */
  public record Dedup(boolean enabled, int maxDistance, int window) {
    /** 3 of 64 bits: sensor noise and re-compression flip 0–2; another scene about 32. */
    public static final int DEFAULT_MAX_DISTANCE = 3;

    /** The last 8 kept frames: a few seconds of a camera at a few frames per second. */
    public static final int DEFAULT_WINDOW = 8;

    public static final Dedup DEFAULT = new Dedup(true, DEFAULT_MAX_DISTANCE, DEFAULT_WINDOW);
    public static final Dedup OFF = new Dedup(false, DEFAULT_MAX_DISTANCE, DEFAULT_WINDOW);

    public Dedup {
      if (maxDistance < 0 || maxDistance > 64) {
        throw new IllegalArgumentException("dedup distance must be in 0..64, got " + maxDistance);
      }
      if (window < 1 || window > 1024) {
        throw new IllegalArgumentException("dedup window must be in 1..1024, got " + window);
      }
    }
  }

  public IngestOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    inTopic = orDefault(inTopic, DEFAULT_IN_TOPIC, "--in");
    outTopic = orDefault(outTopic, DEFAULT_OUT_TOPIC, "--out");
    dlqTopic = orDefault(dlqTopic, DEFAULT_DLQ_TOPIC, "--dlq");
    applicationId = orDefault(applicationId, DEFAULT_APPLICATION_ID, "--application-id");
    if (inTopic.equals(outTopic) || inTopic.equals(dlqTopic) || outTopic.equals(dlqTopic)) {
      throw new IllegalArgumentException(
          "input, output and dead-letter topics must differ, got "
              + inTopic
              + ", "
              + outTopic
              + ", "
              + dlqTopic);
    }
    if (replicationFactor == 0 || replicationFactor < -1) {
      throw new IllegalArgumentException(
          "replication factor must be -1 (broker default) or >= 1, got " + replicationFactor);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    if (size < 1 || size > MAX_SIZE) {
      throw new IllegalArgumentException(
          "--size must be in 1.." + MAX_SIZE + " pixels, got " + size);
    }
    format = format == null ? Normalizer.OutputFormat.RAW : format;
    dedup = dedup == null ? Dedup.DEFAULT : dedup;
    limits = limits == null ? FrameLimits.DEFAULT : limits;
    if (decodePixels <= 0) {
      decodePixels = FrameLimits.DEFAULT_DECODE_PIXELS;
    }
    streamsConfig = streamsConfig == null ? Map.of() : Map.copyOf(streamsConfig);
  }

  /**
   * Every default: {@value #DEFAULT_IN_TOPIC} to {@value #DEFAULT_OUT_TOPIC}, 64 px, RAW, dedup on.
   */
  public static IngestOptions defaults(String bootstrap, String registryUrl) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        null,
        null,
        null,
        null,
        null,
        -1,
        1,
        DEFAULT_SIZE,
        null,
        null,
        null,
        0,
        null);
  }

  public IngestOptions withTopics(String in, String out, String dlq) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        in,
        out,
        dlq,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        size,
        format,
        dedup,
        limits,
        decodePixels,
        streamsConfig);
  }

  public IngestOptions withApplication(String id, Path dir, int replication, int streamThreads) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        inTopic,
        outTopic,
        dlqTopic,
        id,
        dir,
        replication,
        streamThreads,
        size,
        format,
        dedup,
        limits,
        decodePixels,
        streamsConfig);
  }

  public IngestOptions withImages(int newSize, Normalizer.OutputFormat newFormat) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        newSize,
        newFormat,
        dedup,
        limits,
        decodePixels,
        streamsConfig);
  }

  public IngestOptions withDedup(Dedup newDedup) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        size,
        format,
        newDedup,
        limits,
        decodePixels,
        streamsConfig);
  }

  public IngestOptions withLimits(FrameLimits newLimits, long newDecodePixels) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        size,
        format,
        dedup,
        newLimits,
        newDecodePixels,
        streamsConfig);
  }

  public IngestOptions withStreamsConfig(Map<String, String> config) {
    return new IngestOptions(
        bootstrap,
        registryUrl,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        size,
        format,
        dedup,
        limits,
        decodePixels,
        config);
  }

  private static String orDefault(String value, String fallback, String what) {
    if (value == null) {
      return fallback;
    }
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + " is blank");
    }
    return value;
  }
}
