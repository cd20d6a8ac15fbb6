package io.mocostream.cli;

import io.mocostream.encoder.live.SwapPolicy;
import io.mocostream.serving.http.ServeCommand;
import io.mocostream.serving.http.ServeOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Serve embeddings over HTTP with the newest verified encoder, hot-swapped.",
      "POST /v1/embed (an image) → {model, version, vector}; GET /v1/models; /health/live, /health/ready; /metrics.",
      "Bearer-token auth when MOCOSTREAM_SERVE_TOKEN is set."
    })
final class ServeCli implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin MetricsOptions metrics;
  @Mixin PolicyOptions policy;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "NAME",
      description = "The model to serve.")
  String model;

  @Option(
      names = "--port",
      defaultValue = "" + ServeOptions.DEFAULT_PORT,
      description = "Default ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--host",
      defaultValue = ServeOptions.DEFAULT_HOST,
      description = "Bind address (default ${DEFAULT-VALUE}).")
  String host;

  @Mixin ModelSource source;

  @Mixin ServeCli.VersionFloorOptions floor;

  @Override
  public Integer call() throws Exception {
    ServeOptions o =
        ServeOptions.defaults(cluster.bootstrap, cluster.registry, model)
            .withListen(host, port)
            .withModelTopic(source.topic, source.trust)
            .withPolicy(policy.policy())
            .withToken(System.getenv(ServeOptions.TOKEN_ENV))
            .withVersionFloor(floor.highWater, floor.maxAge())
            .withClients(cluster.clients());
    ServeCommand.run(o, metrics.endpoint(), System.out);
    return 0;
  }

  /**
   * Downgrade protection across restarts. No default file: it only helps where it outlives the
   * process (a persistent volume in a container, whose working directory may not even be writable),
   * and two processes must not share one.
   */
  static final class VersionFloorOptions {
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--high-water",
        paramLabel = "FILE",
        description = {
          "Keep the highest version accepted in FILE and never accept a lower one, across restarts",
          "(a replay of old signed versions). Off when not given: use a persistent path, one per process."
        })
    Path highWater;

    @Option(
        names = "--max-age-s",
        paramLabel = "S",
        defaultValue = "0",
        description =
            "Refuse versions created more than S seconds ago (0 = no limit); protects a first start.")
    long maxAgeSeconds;

    Duration maxAge() {
      if (maxAgeSeconds < 0) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--max-age-s must be >= 0, got " + maxAgeSeconds);
      }
      return maxAgeSeconds == 0 ? null : Duration.ofSeconds(maxAgeSeconds);
    }
  }

  /**
   * Which verified versions a service takes: follow the newest, pin one, or gate on kNN quality.
   */
  static final class PolicyOptions {
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--pin", paramLabel = "V", description = "Serve only this version.")
    Long pin;

    @Option(
        names = "--min-knn",
        paramLabel = "X",
        description = "Quality gate: refuse versions with kNN top-1 below X.")
    Double minKnn;

    @Option(
        names = "--max-regression",
        paramLabel = "EPS",
        defaultValue = "0.02",
        description =
            "Quality gate: refuse a drop of more than EPS from the served version (default ${DEFAULT-VALUE}).")
    double maxRegression;

    SwapPolicy policy() {
      if (pin != null && minKnn != null) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--pin and --min-knn exclude each other");
      }
      if (pin != null) {
        return SwapPolicy.pin(pin);
      }
      return minKnn != null
          ? SwapPolicy.qualityGate(minKnn, maxRegression)
          : SwapPolicy.followLatest();
    }
  }
}
