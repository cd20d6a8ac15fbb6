package io.mocostream.cli;

import io.mocostream.metrics.MetricsEndpoint;
import picocli.CommandLine.Option;

/** {@code --metrics-port} and {@code --metrics-host} of every long-running command. */
final class MetricsOptions {
  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description =
          "Serve Prometheus metrics (/metrics) and health probes (/health/live, /health/ready) on PORT "
              + "(off when not given; 0 = any free port).")
  Integer port;

  @Option(
      names = "--metrics-host",
      paramLabel = "HOST",
      defaultValue = "${env:MOCOSTREAM_METRICS_HOST:-127.0.0.1}",
      description =
          "Address the metrics endpoint binds (env MOCOSTREAM_METRICS_HOST; default ${DEFAULT-VALUE}; "
              + "0.0.0.0 in a container, so that Prometheus can reach it).")
  String host;

  MetricsEndpoint endpoint() {
    return new MetricsEndpoint(host, port);
  }
}
