package io.mocostream.cli;

import picocli.CommandLine.Option;

/** Where the broker and registry are: the defaults are what {@code mocostream up} prints. */
final class ClusterOptions {
  static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
  static final String DEFAULT_REGISTRY = "http://127.0.0.1:8081";

  @Option(names = "--bootstrap", paramLabel = "HOST:PORT", defaultValue = "${env:MOCOSTREAM_BOOTSTRAP:-" + DEFAULT_BOOTSTRAP + "}",
      description = "Kafka bootstrap servers (env MOCOSTREAM_BOOTSTRAP; default ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(names = "--registry", paramLabel = "URL", defaultValue = "${env:MOCOSTREAM_REGISTRY:-" + DEFAULT_REGISTRY + "}",
      description = "Schema registry URL (env MOCOSTREAM_REGISTRY; default ${DEFAULT-VALUE}).")
  String registry;
}
