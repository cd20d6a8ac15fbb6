package io.mocostream.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where a model's versions come from and whose signatures to trust: options shared by the model's
 * users.
 */
final class ModelSource {
  @Option(
      names = "--topic",
      defaultValue = "encoder.versions",
      description = "Model topic (default ${DEFAULT-VALUE}).")
  String topic;

  @Option(
      names = "--trust",
      defaultValue = "keys/model-signing.pub",
      paramLabel = "FILE",
      description = {
        "Trusted public key(s): one PEM file of PUBLIC KEY blocks, not writable by group or others",
        "(default ${DEFAULT-VALUE}, the trainer's key in this directory)."
      })
  Path trust;
}
