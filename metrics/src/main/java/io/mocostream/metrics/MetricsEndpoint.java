package io.mocostream.metrics;

/**
 * Where a command serves its metrics and health probes ({@code --metrics-port}, {@code
 * --metrics-host}).
 *
 * @param host address to bind; null means {@value MetricsServer#DEFAULT_HOST} (loopback: pass
 *     {@code 0.0.0.0} in a container so that Prometheus can reach it)
 * @param port port to bind, 0 for any free one; null for no endpoint
 */
public record MetricsEndpoint(String host, Integer port) {
  /** No endpoint: meters are still kept (the registry is cheap), nothing listens. */
  public static final MetricsEndpoint OFF = new MetricsEndpoint(null, null);

  public MetricsEndpoint {
    if (port != null && (port < 0 || port > 65_535)) {
      throw new IllegalArgumentException("--metrics-port must be 0..65535, got " + port);
    }
    if (host == null || host.isBlank()) {
      host = MetricsServer.DEFAULT_HOST;
    }
  }

  public static MetricsEndpoint on(int port) {
    return new MetricsEndpoint(null, port);
  }

  public boolean enabled() {
    return port != null;
  }
}
