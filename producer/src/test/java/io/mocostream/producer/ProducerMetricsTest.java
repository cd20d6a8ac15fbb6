package io.mocostream.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.metrics.MetricsEndpoint;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.Scrape;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code produce http:PORT --metrics-port P} against a real broker: uploads in, scraped over HTTP.
 */
@ExtendWith(KafkaClusterExtension.class)
class ProducerMetricsTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void theUploadEndpointCountsPublishedAndRefusedFramesAndAckLatency(KafkaCluster cluster)
      throws Exception {
    String topic = "pm.frames." + System.nanoTime();
    cluster.createTopic(topic, 1);
    int uploadPort = freePort();
    int metricsPort = freePort();
    ProduceOptions opts =
        ProduceOptions.of(
                cluster.bootstrapServers(), cluster.registryUrl(), "http:127.0.0.1:" + uploadPort)
            .withTopic(topic);
    AtomicReference<Object> result = new AtomicReference<>();
    Thread command =
        new Thread(
            () -> {
              try {
                result.set(
                    ProduceCommand.run(
                        opts,
                        MetricsEndpoint.on(metricsPort),
                        new PrintStream(OutputStream.nullOutputStream())));
              } catch (RuntimeException e) {
                result.set(e);
              }
            },
            "produce-under-test");
    command.start();
    try {
      URI metrics = URI.create("http://127.0.0.1:" + metricsPort);
      await(metrics, "/health/ready");
      URI frames = URI.create("http://127.0.0.1:" + uploadPort + FrameEndpoint.FRAMES_PATH);
      byte[] png = TestImages.png(40, 30);
      for (int i = 0; i < 3; i++) {
        assertEquals(201, post(frames, "image/png", png).statusCode());
      }
      assertEquals(400, post(frames, "image/png", new byte[0]).statusCode());
      assertEquals(415, post(frames, "image/jpeg", png).statusCode());

      Scrape m = Scrape.metrics(metricsPort);
      String t = "topic=\"" + topic + "\"";
      assertEquals(200, m.status());
      assertEquals(3, m.value("mocostream_producer_frames_published_total", t), m.text());
      assertEquals(3 * png.length, m.value("mocostream_producer_bytes_published_total", t), 0.0);
      assertEquals(1, m.value("mocostream_producer_frames_refused_total", t, "reason=\"empty\""));
      assertEquals(
          1, m.value("mocostream_producer_frames_refused_total", t, "reason=\"type_mismatch\""));
      assertEquals(
          0, m.value("mocostream_producer_frames_refused_total", t, "reason=\"undecodable\""));
      assertEquals(0, m.value("mocostream_producer_frames_in_flight", t));
      assertEquals(3, m.value("mocostream_producer_ack_seconds_count", t));
      assertTrue(m.value("mocostream_producer_ack_seconds_sum", t) > 0);
      assertEquals(1, m.value("mocostream_ready"));
      assertTrue(m.value("jvm_threads_live_threads") > 0);
    } finally {
      command.interrupt();
      command.join(60_000);
    }
    assertTrue(result.get() instanceof ProduceSummary, String.valueOf(result.get()));
    assertEquals(3, ((ProduceSummary) result.get()).published());
  }

  private static HttpResponse<String> post(URI uri, String type, byte[] body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(uri)
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void await(URI base, String path) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (Scrape.get(base, path).status() == 200) {
          return;
        }
      } catch (java.io.IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError(path + " not 200 within 60 s");
  }
}
