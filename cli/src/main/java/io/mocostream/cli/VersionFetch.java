package io.mocostream.cli;

import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.TrustedKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options and logic to fetch one verified version of a model from the model topic. */
final class VersionFetch {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description = "A model on the model topic (verified).")
  String model;

  // Not --version: that is picocli's standard option (print the program's version), and a command's
  // own
  // --version stops picocli from adding --help and --version to it at all.
  @Option(
      names = "--model-version",
      paramLabel = "V",
      description = "This version of the model (default: the newest).")
  Long version;

  @Option(
      names = "--trust",
      defaultValue = "keys/model-signing.pub",
      paramLabel = "FILE",
      description = "Trusted public key(s): one PEM file (default ${DEFAULT-VALUE}).")
  Path trust;

  @Option(
      names = "--topic",
      defaultValue = "encoder.versions",
      description = "Model topic (default ${DEFAULT-VALUE}).")
  String topic;

  /**
   * The requested (or newest) verified version; an error naming model and version when there is
   * none.
   */
  VerifiedVersion fetch(ClusterOptions cluster) {
    if (model == null) {
      throw new ParameterException(spec.commandLine(), "Missing required option: '--model=NAME'");
    }
    VerifiedVersion[] found = {null};
    try (VersionSubscriber s =
        VersionSubscriber.builder(cluster.bootstrap, cluster.registry, model)
            .topic(topic)
            .trustedKeys(TrustedKeys.load(trust))
            .consumerConfig(cluster.clients().consumer(Map.of()))
            .startPosition(version == null ? StartPosition.NEWEST : StartPosition.EARLIEST)
            .listener(
                new VersionListener() {
                  @Override
                  public void onAccepted(VerifiedVersion v) {
                    if (version == null || v.version() == version) {
                      found[0] = v;
                    }
                  }
                })
            .build()) {
      // Newest: the first accepted version is it. A given version: read until it shows up.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (found[0] == null && System.nanoTime() < deadline) {
        s.poll(Duration.ofMillis(500));
      }
    }
    if (found[0] == null) {
      throw new ExitCode.RefusedInputException(
          "model "
              + model
              + " has no verified version"
              + (version == null ? "" : " " + version)
              + " on "
              + topic
              + " at "
              + cluster.bootstrap);
    }
    return found[0];
  }
}
