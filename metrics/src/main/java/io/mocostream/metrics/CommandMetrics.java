package io.mocostream.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;

/**
 * A long-running command's metrics: a Prometheus registry with the {@link StandardMeters}, and,
 * when the {@link MetricsEndpoint} is enabled, a {@link MetricsServer} on it. The endpoint starts
 * before the command connects (live at once, not ready), and the command names what "ready" means
 * with {@link #health(Health)} once it can.
 */
public final class CommandMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final StandardMeters standard = StandardMeters.bindTo(registry);
  private final MetricsServer server;
  private volatile Health health;

  private CommandMetrics(MetricsEndpoint endpoint, String starting) {
    this.health = () -> Health.Status.notReady(starting);
    this.server =
        endpoint.enabled()
            ? MetricsServer.start(endpoint.host(), endpoint.port(), registry, () -> health.ready())
            : null;
  }

  /**
   * @param starting what {@code /health/ready} says until {@link #health(Health)} replaces it
   */
  public static CommandMetrics start(MetricsEndpoint endpoint, String starting) {
    return new CommandMetrics(endpoint == null ? MetricsEndpoint.OFF : endpoint, starting);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The endpoint, when one was asked for. */
  public Optional<MetricsServer> server() {
    return Optional.ofNullable(server);
  }

  /** From now on, {@code /health/ready} answers what {@code health} says. */
  public void health(Health health) {
    this.health = health;
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    standard.close();
    registry.close();
  }
}
