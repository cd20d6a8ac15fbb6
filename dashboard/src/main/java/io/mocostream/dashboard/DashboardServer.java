package io.mocostream.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mocostream.registry.http.HttpDefences;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The page: static files from this jar (HTML, one script, CSS, uPlot from its webjar) and {@code
 * GET /api/state}, on the JDK's HTTP server with the project's deadlines and bounded worker pool
 * ({@link HttpDefences}). Read only: every other method is refused. A Content-Security-Policy
 * allows scripts from this origin only, so even a string that reached the page as markup could not
 * run; the page renders topic strings as text anyway.
 */
final class DashboardServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);
  static final String STATE_PATH = "/api/state";
  static final String UPLOT = "/META-INF/resources/webjars/uplot/1.6.30/dist/";
  static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Path → (class-path resource, content type). */
  private static final Map<String, String[]> FILES =
      Map.of(
          "/", new String[] {"web/index.html", "text/html; charset=utf-8"},
          "/index.html", new String[] {"web/index.html", "text/html; charset=utf-8"},
          "/app.js", new String[] {"web/app.js", "text/javascript; charset=utf-8"},
          "/app.css", new String[] {"web/app.css", "text/css; charset=utf-8"},
          "/vendor/uPlot.iife.min.js",
              new String[] {UPLOT + "uPlot.iife.min.js", "text/javascript; charset=utf-8"},
          "/vendor/uPlot.min.css",
              new String[] {UPLOT + "uPlot.min.css", "text/css; charset=utf-8"});

  private final HttpServer server;
  private final HttpDefences.Workers workers;
  private final DashboardState state;
  private final Map<String, byte[]> files = new HashMap<>();

  private DashboardServer(HttpServer server, HttpDefences.Workers workers, DashboardState state) {
    this.server = server;
    this.workers = workers;
    this.state = state;
    FILES.forEach((path, f) -> files.put(path, resource(f[0])));
  }

  static DashboardServer start(String host, int port, DashboardState state) throws IOException {
    HttpServer http = HttpDefences.create(new InetSocketAddress(host, port), 64);
    HttpDefences.Workers workers = new HttpDefences.Workers("dashboard-http", 4, 32, null);
    DashboardServer s = new DashboardServer(http, workers, state);
    http.createContext("/", s::handle);
    http.setExecutor(workers);
    http.start();
    return s;
  }

  URI uri() {
    InetSocketAddress a = server.getAddress();
    String host =
        a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    return URI.create(
        "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      ex.getResponseHeaders().set("Content-Security-Policy", CSP);
      ex.getResponseHeaders().set("Referrer-Policy", "no-referrer");
      if (HttpDefences.Workers.shedding()) {
        ex.getResponseHeaders()
            .set("Retry-After", String.valueOf(HttpDefences.RETRY_AFTER_SECONDS));
        send(ex, 503, "text/plain; charset=utf-8", "busy\n".getBytes(StandardCharsets.UTF_8));
        return;
      }
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        send(ex, 405, "text/plain; charset=utf-8", "GET only\n".getBytes(StandardCharsets.UTF_8));
        return;
      }
      String path = ex.getRequestURI().getPath();
      if (path.equals(STATE_PATH)) {
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        send(ex, 200, "application/json", JSON.writeValueAsBytes(state.snapshot()));
        return;
      }
      byte[] body = files.get(path);
      if (body == null) {
        send(ex, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
        return;
      }
      send(ex, 200, FILES.get(path)[1], body);
    } catch (IOException e) {
      log.debug("dashboard request: {}", e.toString()); // the client went away
    } catch (RuntimeException e) {
      String id = HttpDefences.newRequestId();
      log.error("dashboard request {} failed: {}", id, e.toString(), e);
    }
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : body.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static byte[] resource(String name) {
    try (InputStream in =
        DashboardServer.class.getResourceAsStream(name)) { // relative: next to this class
      if (in == null) {
        throw new IllegalStateException(
            "class-path resource " + name + " is missing from the dashboard's jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    workers.close();
  }
}
