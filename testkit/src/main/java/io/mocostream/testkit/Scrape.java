package io.mocostream.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One scrape of a {@code /metrics} endpoint over HTTP, and the samples in its Prometheus text, for
 * the tests that check each command's metrics the way Prometheus sees them.
 */
public record Scrape(int status, String contentType, String text) {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** GET {@code base + path}; the body as text. */
  public static Scrape get(URI base, String path) throws IOException, InterruptedException {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return new Scrape(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  /** {@link #get} of {@code http://127.0.0.1:port/metrics}. */
  public static Scrape metrics(int port) throws IOException, InterruptedException {
    return get(URI.create("http://127.0.0.1:" + port), "/metrics");
  }

  /**
   * The value of the sample whose name is {@code name} and whose labels include every {@code
   * key="value"} in {@code labels} (e.g. {@code "reason=\"empty\""}); NaN when there is none.
   */
  public double value(String name, String... labels) {
    List<Double> values = values(name, labels);
    return values.isEmpty() ? Double.NaN : values.get(0);
  }

  /** {@link #value} of every matching sample, in the order scraped. */
  public List<Double> values(String name, String... labels) {
    List<Double> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || !(line.startsWith(name + " ") || line.startsWith(name + "{"))) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      String series = line.substring(0, space);
      boolean all = true;
      for (String label : labels) {
        all &= series.contains(label);
      }
      if (all) {
        out.add(Double.parseDouble(line.substring(space + 1)));
      }
    }
    return out;
  }

  /** Whether a {@code # TYPE name kind} line is there. */
  public boolean hasType(String name, String kind) {
    return text.contains("# TYPE " + name + " " + kind + "\n");
  }
}
