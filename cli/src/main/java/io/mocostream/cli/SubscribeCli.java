package io.mocostream.cli;

import io.mocostream.encoder.client.SubscribeCommand;
import io.mocostream.encoder.client.SubscribeOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "subscribe",
    mixinStandardHelpOptions = true,
    description = {
      "Print each verified version of a model as it lands.",
      "read_committed; SHA-256 and Ed25519 signature checked against the trusted keys; one line per version:",
      "version, step, kNN, sha256."
    })
final class SubscribeCli implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "NAME",
      description = "The model to follow.")
  String model;

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

  @Option(
      names = "--from-beginning",
      description = "Every retained version, not only the newest and later ones.")
  boolean fromBeginning;

  @Option(
      names = "--max-versions",
      defaultValue = "0",
      description = "Stop after N versions (0 = no limit).")
  int maxVersions;

  @Option(
      names = "--timeout-s",
      defaultValue = "0",
      description = "Stop after this many seconds (0 = no limit).")
  long timeoutSeconds;

  @Option(
      names = "--high-water",
      paramLabel = "FILE",
      description =
          "Keep the highest version accepted in FILE and never accept a lower one, across runs.")
  Path highWater;

  @Option(
      names = "--max-age-s",
      defaultValue = "0",
      description = "Refuse versions created more than this many seconds ago (0 = no limit).")
  long maxAgeSeconds;

  @Override
  public Integer call() {
    SubscribeCommand.run(
        new SubscribeOptions(
            cluster.bootstrap,
            cluster.registry,
            topic,
            model,
            trust,
            fromBeginning,
            maxVersions,
            timeoutSeconds == 0 ? null : Duration.ofSeconds(timeoutSeconds),
            highWater,
            maxAgeSeconds == 0 ? null : Duration.ofSeconds(maxAgeSeconds),
            cluster.clients().consumer(Map.of())),
        System.out);
    return 0;
  }
}
