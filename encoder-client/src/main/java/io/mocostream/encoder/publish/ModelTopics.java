package io.mocostream.encoder.publish;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the model topic with the settings chunked, versioned models need. */
public final class ModelTopics {
  /** Default model topic. */
  public static final String DEFAULT_TOPIC = "encoder.versions";

  /**
   * One partition: every model is one key, so one partition keeps each model's records in order.
   */
  public static final int DEFAULT_PARTITIONS = 1;

  /**
   * Seven days of versions, Kafka's own default retention, stated so that it does not depend on the
   * broker.
   */
  public static final long DEFAULT_RETENTION_MS = 7L * 24 * 60 * 60 * 1000;

  /**
   * Largest record batch the topic takes: 4 MiB, room for a ~1 MiB chunk with any producer batching
   * and for chunk sizes up to a few MiB (at least 2 MiB is needed for 1 MiB chunks with batching
   * headroom).
   */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  private static final Logger log = LoggerFactory.getLogger(ModelTopics.class);

  private ModelTopics() {}

  /** Topic settings: partitions, retention ({@code -1} keeps every version), largest batch. */
  public record Settings(int partitions, long retentionMs, int maxMessageBytes) {
    public Settings {
      if (partitions < 1) {
        throw new IllegalArgumentException(
            "model topic partitions must be >= 1, got " + partitions);
      }
      if (retentionMs < -1 || retentionMs == 0) {
        throw new IllegalArgumentException(
            "model topic retention.ms must be -1 (forever) or > 0, got " + retentionMs);
      }
      if (maxMessageBytes < 2 * 1024 * 1024) {
        throw new IllegalArgumentException(
            "model topic max.message.bytes must be >= 2 MiB, got " + maxMessageBytes);
      }
    }

    public static Settings defaults() {
      return new Settings(DEFAULT_PARTITIONS, DEFAULT_RETENTION_MS, DEFAULT_MAX_MESSAGE_BYTES);
    }

    /** Topic-level configs of these settings. */
    public Map<String, String> configs() {
      return Map.of(
          // delete, not compact: all records of a model share its key, so compaction would keep
          // only the
          // last manifest and destroy every version's chunks.
          TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
          TopicConfig.RETENTION_MS_CONFIG, Long.toString(retentionMs),
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes));
    }
  }

  /** {@link #ensure(Admin, String, Settings)} with {@link Settings#defaults()}. */
  public static boolean ensure(Admin admin, String topic) {
    return ensure(admin, topic, Settings.defaults());
  }

  /**
   * Creates {@code topic} with {@code settings} when it is missing (replication factor: the
   * broker's default). An existing topic is kept as it is, except that a compacted one is refused,
   * since compaction would delete the chunks of every version, and too small a {@code
   * max.message.bytes} is reported.
   *
   * @return whether this call created the topic
   */
  public static boolean ensure(Admin admin, String topic, Settings settings) {
    try {
      // Described first: a principal that may write the topic but not create topics (a secured
      // cluster) passes.
      admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS);
      checkExisting(admin, topic);
      return false;
    } catch (ExecutionException e) {
      if (!(e.getCause()
          instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
        throw new IllegalStateException(
            "cannot describe model topic " + topic + ": " + e.getCause(), e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted describing model topic " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("model topic " + topic + " not described within 30 s", e);
    }
    try {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, Optional.of(settings.partitions()), Optional.empty())
                      .configs(settings.configs())))
          .all()
          .get(30, TimeUnit.SECONDS);
      log.info("created model topic {} ({})", topic, settings);
      return true;
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException(
            "cannot create model topic " + topic + ": " + e.getCause(), e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating model topic " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("model topic " + topic + " not created within 30 s", e);
    }
    checkExisting(admin, topic);
    return false;
  }

  private static void checkExisting(Admin admin, String topic) {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config;
    try {
      config =
          admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof org.apache.kafka.common.errors.AuthorizationException) {
        // A least-privilege principal may lack DESCRIBE_CONFIGS: the check is advice, not a
        // condition to run.
        log.warn(
            "cannot check the settings of model topic {} ({}): grant DESCRIBE_CONFIGS on it to have them"
                + " checked",
            topic,
            e.getCause().getMessage());
        return;
      }
      throw new IllegalStateException("cannot read the configuration of model topic " + topic, e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot read the configuration of model topic " + topic, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading model topic " + topic, e);
    }
    ConfigEntry policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
    if (policy != null
        && policy.value() != null
        && policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      throw new IllegalStateException(
          "model topic "
              + topic
              + " has cleanup.policy="
              + policy.value()
              + ": compaction keeps one record per model and would delete every version's chunks; use delete");
    }
    ConfigEntry max = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
    if (max != null && max.value() != null && Integer.parseInt(max.value()) < 2 * 1024 * 1024) {
      log.warn(
          "model topic {} has max.message.bytes={}; chunks must stay below it (default chunk size fits"
              + " Kafka's default limits, larger chunks need >= 2 MiB)",
          topic,
          max.value());
    }
  }
}
