package io.mocostream.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mocostream.registry.http.HttpDefences;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code --metrics-port} endpoint of a long-running command:
 *
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text format of {@code registry};
 *   <li>{@code GET /health/live}: 200 while the process serves HTTP;
 *   <li>{@code GET /health/ready}: 200 when {@link Health#ready()} says so, else 503, with {@code
 *       {"status","detail"}} (the same meaning as {@code serve}'s: connected and doing its job).
 * </ul>
 *
 * The same answer is the gauge {@code mocostream_ready} (1 or 0). Nothing else: other paths are
 * 404, other methods 405; requests carry no body worth reading. The JDK's {@code
 * com.sun.net.httpserver}, as the other servers of the project, with {@link HttpDefences}'
 * deadlines and a two-worker pool that sheds with 503 when full, so a flood of scrapes cannot grow
 * threads or memory. Open like serve's probes and metrics (no token): bind it to loopback (the
 * default) unless a scraper elsewhere needs it.
 */
public final class MetricsServer implements AutoCloseable {
  public static final String METRICS_PATH = "/metrics";
  public static final String LIVE_PATH = "/health/live";
  public static final String READY_PATH = "/health/ready";

  /** Prometheus' text exposition format, version 0.0.4. */
  public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  public static final String DEFAULT_HOST = "127.0.0.1";

  private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final HttpDefences.Workers workers;
  private final PrometheusMeterRegistry registry;
  private final Health health;

  private MetricsServer(InetSocketAddress address, PrometheusMeterRegistry registry, Health health)
      throws IOException {
    this.registry = registry;
    this.health = health;
    this.workers = new HttpDefences.Workers("metrics-http", 2, 16, null);
    this.server = HttpDefences.create(address, 64);
    server.createContext("/", this::handle);
    server.setExecutor(workers);
  }

  /**
   * Binds {@code host:port} (port 0: a free one, see {@link #port()}) and serves at once.
   *
   * @throws UncheckedIOException naming the address when it cannot be bound
   */
  public static MetricsServer start(
      String host, int port, PrometheusMeterRegistry registry, Health health) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(health, "health");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("metrics port must be 0..65535, got " + port);
    }
    try {
      MetricsServer s =
          new MetricsServer(
              new InetSocketAddress(host == null ? DEFAULT_HOST : host, port), registry, health);
      // The readiness as a series too, so a dashboard can show when each process was doing its job.
      io.micrometer.core.instrument.Gauge.builder(
              "mocostream.ready", health, h -> h.ready().ready() ? 1 : 0)
          .description("1 while /health/ready answers 200")
          .strongReference(true)
          .register(registry);
      s.server.start();
      log.info("metrics on {}{} (health: {}, {})", s.uri(), METRICS_PATH, LIVE_PATH, READY_PATH);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen for metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://host:port} as bound (loopback when bound to the wildcard address). */
  public URI uri() {
    InetSocketAddress a = server.getAddress();
    String host =
        a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    return URI.create(
        "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  private void handle(HttpExchange ex) {
    try (ex) {
      if (HttpDefences.Workers.shedding()) {
        ex.getResponseHeaders()
            .set("Retry-After", Integer.toString(HttpDefences.RETRY_AFTER_SECONDS));
        json(ex, 503, Map.of("status", "overloaded", "detail", workers.overloadedMessage()));
        return;
      }
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      boolean known =
          path.equals(METRICS_PATH) || path.equals(LIVE_PATH) || path.equals(READY_PATH);
      if (!known) {
        json(
            ex,
            404,
            Map.of(
                "status",
                "not_found",
                "detail",
                "no route "
                    + path
                    + "; try "
                    + METRICS_PATH
                    + ", "
                    + LIVE_PATH
                    + " or "
                    + READY_PATH));
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        json(
            ex,
            405,
            Map.of("status", "method_not_allowed", "detail", method + " is not allowed; use GET"));
      } else if (path.equals(METRICS_PATH)) {
        ex.getResponseHeaders().set("Content-Type", PROMETHEUS_CONTENT_TYPE);
        send(ex, 200, registry.scrape().getBytes(StandardCharsets.UTF_8));
      } else if (path.equals(LIVE_PATH)) {
        json(ex, 200, Map.of("status", "live"));
      } else {
        Health.Status s = health.ready();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", s.ready() ? "ready" : "not_ready");
        body.put("detail", s.detail());
        json(ex, s.ready() ? 200 : 503, body);
      }
    } catch (IOException e) {
      log.debug("metrics client went away: {}", e.toString());
    } catch (RuntimeException e) {
      // A failing gauge must not take the endpoint down: this scrape fails, the next one is asked
      // again.
      log.warn("metrics request {} failed", ex.getRequestURI(), e);
    }
  }

  private static void json(HttpExchange ex, int status, Object body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    send(ex, status, JSON.writeValueAsBytes(body));
  }

  private static void send(HttpExchange ex, int status, byte[] bytes) throws IOException {
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    OutputStream out = ex.getResponseBody();
    if (!head) {
      out.write(bytes);
    }
    out.close();
  }

  /** Stops accepting, lets scrapes in flight finish for up to a second. */
  @Override
  public void close() {
    server.stop(1);
    workers.close();
  }
}
