package io.mocostream.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static HttpResponse<String> get(URI base, String path, String method) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(base.resolve(path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * The value of the first sample of {@code series} (name with labels as scraped), or NaN when
   * absent.
   */
  static double sample(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ") || line.startsWith(series + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return Double.NaN;
  }

  /** The sum of every sample of {@code series} (all label sets). */
  static double total(String text, String series) {
    double sum = 0;
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ") || line.startsWith(series + "{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  @Test
  void servesPrometheusTextAndBothProbes() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AtomicBoolean ready = new AtomicBoolean();
    try (StandardMeters meters = StandardMeters.bindTo(registry);
        MetricsServer server =
            MetricsServer.start(
                "127.0.0.1",
                0,
                registry,
                () ->
                    ready.get()
                        ? Health.Status.ready("working")
                        : Health.Status.notReady("waiting for the broker"))) {
      HttpResponse<String> m = get(server.uri(), "/metrics", "GET");
      assertEquals(200, m.statusCode());
      assertEquals(
          MetricsServer.PROMETHEUS_CONTENT_TYPE,
          m.headers().firstValue("Content-Type").orElseThrow());
      assertTrue(
          total(m.body(), "jvm_memory_used_bytes") > 0,
          m.body()); // a pool (Eden after a GC) may be 0
      assertTrue(sample(m.body(), "jvm_gc_max_data_size_bytes") > 0, "GC binder");
      assertTrue(sample(m.body(), "jvm_threads_live_threads") > 0, "thread binder");
      double rss = sample(m.body(), "process_resident_memory_bytes");
      double nativeBytes = sample(m.body(), "mocostream_process_native_memory_bytes");
      // A JVM's resident set is tens of MB at least; the native share is a part of it.
      assertTrue(rss > 20e6, "rss " + rss);
      assertTrue(nativeBytes >= 0 && nativeBytes < rss, "native " + nativeBytes + " of rss " + rss);
      assertTrue(sample(m.body(), "process_resident_memory_peak_bytes") >= rss * 0.5);

      assertEquals(200, get(server.uri(), "/health/live", "GET").statusCode());
      HttpResponse<String> notReady = get(server.uri(), "/health/ready", "GET");
      assertEquals(503, notReady.statusCode());
      assertTrue(notReady.body().contains("waiting for the broker"), notReady.body());
      ready.set(true);
      assertEquals(200, get(server.uri(), "/health/ready", "GET").statusCode());
      assertEquals(404, get(server.uri(), "/v1/embed", "GET").statusCode());
      assertEquals(405, get(server.uri(), "/metrics", "POST").statusCode());
    }
  }
}
