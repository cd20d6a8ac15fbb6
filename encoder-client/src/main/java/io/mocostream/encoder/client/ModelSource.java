package io.mocostream.encoder.client;

import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.publish.ModelTopics;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a model's versions come from and whose signatures make them real: the one value the
 * subscriber, the live encoder and the commands share.
 *
 * @param bootstrap Kafka bootstrap servers
 * @param registryUrl schema registry URL
 * @param model model name (the model topic's record key)
 * @param topic model topic
 * @param trust keys whose versions are accepted; null until {@link #withTrust} (a subscriber
 *     refuses to start without)
 * @param clientOverrides extra consumer and registry-client settings (auth, TLS, ...); they win
 *     over the defaults
 */
public record ModelSource(
    String bootstrap,
    String registryUrl,
    String model,
    String topic,
    TrustedKeys trust,
    Map<String, Object> clientOverrides) {

  public ModelSource {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("model name is blank");
    }
    if (topic == null || topic.isBlank()) {
      throw new IllegalArgumentException("model topic name is blank");
    }
    clientOverrides = Map.copyOf(clientOverrides == null ? Map.of() : clientOverrides);
  }

  /** {@code model} on the default model topic, no keys trusted yet. */
  public static ModelSource of(String bootstrap, String registryUrl, String model) {
    return new ModelSource(
        bootstrap, registryUrl, model, ModelTopics.DEFAULT_TOPIC, null, Map.of());
  }

  public ModelSource withTopic(String newTopic) {
    return new ModelSource(bootstrap, registryUrl, model, newTopic, trust, clientOverrides);
  }

  public ModelSource withTrust(TrustedKeys keys) {
    return new ModelSource(
        bootstrap,
        registryUrl,
        model,
        topic,
        Objects.requireNonNull(keys, "trust"),
        clientOverrides);
  }

  /**
   * Trusts the public keys in these PEM files (never directories: see {@link TrustedKeys#load}).
   */
  public ModelSource withTrust(Path... paths) {
    return withTrust(TrustedKeys.load(List.of(paths)));
  }

  /** Adds client settings; later ones win. */
  public ModelSource withClientOverrides(Map<String, ?> overrides) {
    Map<String, Object> merged = new HashMap<>(clientOverrides);
    merged.putAll(overrides);
    return new ModelSource(bootstrap, registryUrl, model, topic, trust, merged);
  }

  /** The trusted keys, or a clear error when none were given. */
  public TrustedKeys requireTrust() {
    if (trust == null) {
      throw new IllegalStateException(
          "model "
              + model
              + " on "
              + topic
              + ": no trusted keys given; every version"
              + " would be refused (ModelSource.withTrust)");
    }
    return trust;
  }
}
