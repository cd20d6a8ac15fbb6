package io.mocostream.testkit;

import java.util.Map;

/**
 * A running Kafka broker and schema registry that a test may use: embedded, in containers, or
 * external.
 */
public interface KafkaCluster {

  /** {@code host:port} list for {@code bootstrap.servers}. */
  String bootstrapServers();

  /** Base URL of a registry speaking Confluent's REST API, for {@code schema.registry.url}. */
  String registryUrl();

  /** Where this cluster came from: {@code embedded}, {@code docker} or {@code external}. */
  String kind();

  /**
   * Creates a topic (replication factor 1) and waits until it exists; an existing topic is left as
   * it is.
   */
  default void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  /** Creates a topic with topic-level configs such as {@code cleanup.policy=compact}. */
  void createTopic(String name, int partitions, Map<String, String> configs);
}
