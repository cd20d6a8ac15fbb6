package io.mocostream.encoder.client;

import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.ModelTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Options of {@link SubscribeCommand} ({@code mocostream subscribe}).
 *
 * @param bootstrap Kafka bootstrap servers
 * @param registryUrl schema registry URL
 * @param topic model topic; null means {@link ModelTopics#DEFAULT_TOPIC}
 * @param model model name to follow
 * @param trust a public key PEM file or a directory of them; null means the default key directory's
 *     public key ({@link ModelSigning#DEFAULT_KEY_DIR}/{@link ModelSigning#PUBLIC_KEY_FILE})
 * @param fromBeginning every retained version instead of the newest and later ones
 * @param maxVersions stop after this many versions (accepted or refused); 0 means no limit
 * @param timeout stop after this long; null means run until interrupted
 * @param highWaterFile where the highest version accepted is kept across runs (see {@link
 *     HighWaterMarks}); null for none
 * @param maxAge refuse versions created longer ago; null for no limit
 * @param clientConfig consumer and registry settings laid over the subscriber's own (a secured
 *     cluster's SASL/TLS settings, registry credentials); empty for none
 */
public record SubscribeOptions(
    String bootstrap,
    String registryUrl,
    String topic,
    String model,
    Path trust,
    boolean fromBeginning,
    int maxVersions,
    Duration timeout,
    Path highWaterFile,
    Duration maxAge,
    Map<String, Object> clientConfig) {

  /** Without a high-water mark file, a maximum age or client settings. */
  public SubscribeOptions(
      String bootstrap,
      String registryUrl,
      String topic,
      String model,
      Path trust,
      boolean fromBeginning,
      int maxVersions,
      Duration timeout) {
    this(
        bootstrap,
        registryUrl,
        topic,
        model,
        trust,
        fromBeginning,
        maxVersions,
        timeout,
        null,
        null,
        Map.of());
  }

  public SubscribeOptions {
    clientConfig = clientConfig == null ? Map.of() : Map.copyOf(clientConfig);
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("--model is required");
    }
    if (topic == null) {
      topic = ModelTopics.DEFAULT_TOPIC;
    }
    if (trust == null) {
      trust = ModelSigning.DEFAULT_KEY_DIR.resolve(ModelSigning.PUBLIC_KEY_FILE);
    }
    if (maxVersions < 0) {
      throw new IllegalArgumentException("--max-versions must be >= 0, got " + maxVersions);
    }
    if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
      throw new IllegalArgumentException("--max-age must be positive, got " + maxAge);
    }
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
  }
}
