package io.mocostream.serving.streams;

import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.live.SwapPolicy;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.frames.FrameLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Options of {@link EmbedStreamCommand} ({@code mocostream embed-stream}) and {@link
 * EmbedTopology}.
 *
 * @param bootstrap Kafka bootstrap servers
 * @param registryUrl schema registry URL
 * @param model model name to follow on the model topic
 * @param modelTopic model topic; null means {@link ModelTopics#DEFAULT_TOPIC}
 * @param trust one PEM file of trusted public key(s), not writable by group or others; null means
 *     {@link ModelSigning#DEFAULT_TRUST} (the trainer's {@code keys/model-signing.pub})
 * @param policy which verified versions to serve; null means {@link SwapPolicy#followLatest()}
 * @param inTopic frames topic ({@code ImageFrame} values); null means {@value #DEFAULT_IN_TOPIC}
 * @param outTopic embeddings topic ({@code Embedding} values, the frame's key); null means {@value
 *     #DEFAULT_OUT_TOPIC}
 * @param dlqTopic dead-letter topic for frames that cannot be embedded; null means {@value
 *     #DEFAULT_DLQ_TOPIC}
 * @param applicationId Kafka Streams {@code application.id} (consumer group, transactional ids,
 *     internal topics); null means {@value #APPLICATION_ID_PREFIX}{@code <model>}
 * @param stateDir Kafka Streams {@code state.dir}; null keeps Kafka Streams' default. The topology
 *     is stateless, but Streams still locks a task directory there
 * @param replicationFactor {@code replication.factor} of Kafka Streams' internal topics and of the
 *     output topics this command creates; -1 means the broker's default
 * @param threads {@code num.stream.threads}; every thread shares the one live encoder
 * @param limits byte and pixel limits checked before decoding a frame
 * @param readyTimeout how long to wait for a first verified version before giving up; null waits
 *     indefinitely
 * @param streamsConfig further Kafka Streams, client and registry settings; they win over the
 *     defaults
 * @param highWaterFile where the highest version accepted is kept across restarts, so a restarted
 *     command never embeds with a lower one (a downgrade replay); null keeps no file. Off by
 *     default: the file must outlive the process to help (a persistent volume, one file per
 *     process)
 * @param maxAge refuse versions created longer ago than this; null for no limit
 */
public record EmbedOptions(
    String bootstrap,
    String registryUrl,
    String model,
    String modelTopic,
    Path trust,
    SwapPolicy policy,
    String inTopic,
    String outTopic,
    String dlqTopic,
    String applicationId,
    Path stateDir,
    int replicationFactor,
    int threads,
    FrameLimits limits,
    Duration readyTimeout,
    Map<String, String> streamsConfig,
    Path highWaterFile,
    Duration maxAge) {

  public static final String DEFAULT_IN_TOPIC = "frames.raw";
  public static final String DEFAULT_OUT_TOPIC = "embeddings";
  public static final String DEFAULT_DLQ_TOPIC = "embeddings.dlq";
  public static final String APPLICATION_ID_PREFIX = "mocostream-embed-";

  public EmbedOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("--model is required");
    }
    modelTopic = orDefault(modelTopic, ModelTopics.DEFAULT_TOPIC, "model topic");
    if (trust == null) {
      trust = ModelSigning.DEFAULT_TRUST;
    }
    if (policy == null) {
      policy = SwapPolicy.followLatest();
    }
    inTopic = orDefault(inTopic, DEFAULT_IN_TOPIC, "--in");
    outTopic = orDefault(outTopic, DEFAULT_OUT_TOPIC, "--out");
    dlqTopic = orDefault(dlqTopic, DEFAULT_DLQ_TOPIC, "--dlq");
    applicationId = orDefault(applicationId, APPLICATION_ID_PREFIX + model, "application id");
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
    if (limits == null) {
      limits = FrameLimits.DEFAULT;
    }
    if (readyTimeout != null && (readyTimeout.isNegative() || readyTimeout.isZero())) {
      throw new IllegalArgumentException("ready timeout must be positive, got " + readyTimeout);
    }
    streamsConfig = streamsConfig == null ? Map.of() : Map.copyOf(streamsConfig);
    if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
      throw new IllegalArgumentException(
          "--max-age-s must be positive, got " + maxAge.toSeconds() + " s");
    }
  }

  /**
   * Every default: follow {@code model} from {@value #DEFAULT_IN_TOPIC} to {@value
   * #DEFAULT_OUT_TOPIC}.
   */
  public static EmbedOptions defaults(String bootstrap, String registryUrl, String model) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        -1,
        1,
        null,
        null,
        null,
        null,
        null);
  }

  public EmbedOptions withTopics(String in, String out, String dlq) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        policy,
        in,
        out,
        dlq,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        limits,
        readyTimeout,
        streamsConfig,
        highWaterFile,
        maxAge);
  }

  public EmbedOptions withModelTopic(String topic, Path trustPath) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trustPath,
        policy,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        limits,
        readyTimeout,
        streamsConfig,
        highWaterFile,
        maxAge);
  }

  public EmbedOptions withPolicy(SwapPolicy newPolicy) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        newPolicy,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        limits,
        readyTimeout,
        streamsConfig,
        highWaterFile,
        maxAge);
  }

  public EmbedOptions withLimits(FrameLimits newLimits, int newThreads) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        policy,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        newThreads,
        newLimits,
        readyTimeout,
        streamsConfig,
        highWaterFile,
        maxAge);
  }

  public EmbedOptions withApplication(String id, Path dir, int replication) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        policy,
        inTopic,
        outTopic,
        dlqTopic,
        id,
        dir,
        replication,
        threads,
        limits,
        readyTimeout,
        streamsConfig,
        highWaterFile,
        maxAge);
  }

  public EmbedOptions withReadyTimeout(Duration timeout) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        policy,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        limits,
        timeout,
        streamsConfig,
        highWaterFile,
        maxAge);
  }

  public EmbedOptions withStreamsConfig(Map<String, String> config) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        policy,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        limits,
        readyTimeout,
        config,
        highWaterFile,
        maxAge);
  }

  /**
   * Keeps the highest version accepted in {@code file} (null: none) and refuses versions older than
   * {@code age}.
   */
  public EmbedOptions withVersionFloor(Path file, Duration age) {
    return new EmbedOptions(
        bootstrap,
        registryUrl,
        model,
        modelTopic,
        trust,
        policy,
        inTopic,
        outTopic,
        dlqTopic,
        applicationId,
        stateDir,
        replicationFactor,
        threads,
        limits,
        readyTimeout,
        streamsConfig,
        file,
        age);
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
