package io.mocostream.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a model's versions come from and whose signatures to trust: options shared by the model's users. */
final class ModelSource {
  @Option(names = "--topic", defaultValue = "encoder.versions", description = "Model topic (default ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--trust", defaultValue = "keys", paramLabel = "FILE|DIR",
      description = "Trusted public key(s): a .pub PEM file or a directory of them (default ${DEFAULT-VALUE}).")
  Path trust;
}
