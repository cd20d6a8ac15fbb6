package io.mocostream.cli;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;

/**
 * A broker and registry for a command that needs one: the embedded pair on free loopback ports
 * (deleted on close), or the external cluster the user named.
 */
final class LocalCluster implements AutoCloseable {
  private final EmbeddedKafka kafka;
  private final EmbeddedSchemaRegistry registry;
  final String bootstrap;
  final String registryUrl;

  private LocalCluster(
      EmbeddedKafka kafka, EmbeddedSchemaRegistry registry, String bootstrap, String registryUrl) {
    this.kafka = kafka;
    this.registry = registry;
    this.bootstrap = bootstrap;
    this.registryUrl = registryUrl;
  }

  /** The external cluster when {@code bootstrap} is given, else a new embedded one. */
  static LocalCluster startOrUse(String bootstrap, String registryUrl) {
    if (bootstrap != null) {
      if (registryUrl == null) {
        throw new IllegalArgumentException("--bootstrap needs --registry too");
      }
      return new LocalCluster(null, null, bootstrap, registryUrl);
    }
    EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
    try {
      EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
      return new LocalCluster(kafka, registry, kafka.bootstrapServers(), registry.url());
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  boolean embedded() {
    return kafka != null;
  }

  @Override
  public void close() {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }
}
