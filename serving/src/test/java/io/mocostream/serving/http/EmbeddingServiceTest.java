package io.mocostream.serving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.serving.TestModels;
import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP service against a real broker, registry and live encoder serving real (tiny) encoder
 * versions.
 */
@ExtendWith(KafkaClusterExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbeddingServiceTest {
  private static final String MODEL = "svc";
  static final long MAX_BYTES = 64 * 1024;
  static final long MAX_PIXELS = 100_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Path dir;
  private TestModels models;
  private EncoderVersion v1;
  private ServeCommand.Running running;
  private URI base;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  @BeforeAll
  void start(KafkaCluster cluster, @TempDir Path tempDir) {
    dir = tempDir;
    models = new TestModels(cluster, "svc", dir);
    v1 = models.publish(MODEL, 1);
    ServeOptions options =
        ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
            .withModelTopic(models.topic, models.trustFile)
            .withListen("127.0.0.1", 0)
            .withLimits(MAX_BYTES, MAX_PIXELS);
    running = ServeCommand.start(options);
    assertTrue(running.encoder().awaitReady(Duration.ofSeconds(60)), "version 1 not served");
    base = running.service().uri();
  }

  @AfterAll
  void stop() {
    if (running != null) {
      running.close();
    }
    if (models != null) {
      models.close();
    }
  }

  record Answer(int status, String body, HttpResponse<String> response) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }

    String error() throws Exception {
      return json().path("error").asText();
    }
  }

  private Answer send(HttpRequest.Builder request) throws Exception {
    HttpResponse<String> r =
        http.send(
            request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(r.statusCode(), r.body(), r);
  }

  private Answer post(URI uri, String contentType, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri.resolve(EmbeddingService.EMBED_PATH))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b);
  }

  private Answer get(URI uri, String path) throws Exception {
    return send(HttpRequest.newBuilder(uri.resolve(path)).GET());
  }

  private static float[] vector(JsonNode json) {
    JsonNode v = json.path("vector");
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) v.get(i).asDouble();
    }
    return out;
  }

  @Test
  void anImageIsEmbeddedByTheServingVersion() throws Exception {
    byte[] png =
        SyntheticVersions.png(40, 3, 7); // RGB and larger than the input: cropped, resized, greyed
    Answer a = post(base, "image/png", png);
    assertEquals(200, a.status(), a.body());
    JsonNode json = a.json();
    assertEquals(MODEL, json.path("model").asText());
    assertEquals(1, json.path("version").asLong());
    float[] got = vector(json);
    assertEquals(TestModels.ARCH.featureDim(), got.length);
    float[] expected =
        TestModels.reference(
            1, new ImageDecoder().decode(ContentType.PNG, png, null, null, "test"));
    assertArrayEquals(expected, got, 1e-5f, "the vector of version 1, computed independently");
    double norm = 0;
    for (float f : got) {
      norm += f * f;
    }
    assertEquals(1.0, norm, 1e-4);
    // No Content-Type, or octet-stream: recognised from the bytes. Another image: another vector.
    Answer other = post(base, null, SyntheticVersions.png(16, 1, 8));
    assertEquals(200, other.status(), other.body());
    assertFalse(Arrays.equals(got, vector(other.json())));
    assertEquals(200, post(base, "application/octet-stream", png).status());
  }

  @Test
  void badUploadsGet400413Or415WithAJsonReason() throws Exception {
    Answer empty = post(base, "image/png", new byte[0]);
    assertEquals(400, empty.status(), empty.body());
    assertEquals("empty", empty.error());

    Answer text = post(base, "text/plain", "hello".getBytes(StandardCharsets.UTF_8));
    assertEquals(415, text.status(), text.body());
    assertEquals("unsupported_type", text.error());
    assertTrue(text.json().path("message").asText().contains("text/plain"), text.body());

    Answer garbage =
        post(
            base,
            "application/octet-stream",
            "definitely not an image".getBytes(StandardCharsets.UTF_8));
    assertEquals(415, garbage.status(), garbage.body());
    assertEquals("unsupported_type", garbage.error());

    Answer mislabelled = post(base, "image/jpeg", SyntheticVersions.png(16, 1, 1));
    assertEquals(415, mislabelled.status(), mislabelled.body());
    assertTrue(mislabelled.json().path("message").asText().contains("PNG"), mislabelled.body());

    byte[] png = SyntheticVersions.png(32, 3, 2);
    Answer truncated = post(base, "image/png", Arrays.copyOf(png, png.length / 2));
    assertEquals(400, truncated.status(), truncated.body());
    assertEquals("undecodable", truncated.error());

    Answer tooBig = post(base, "image/png", new byte[(int) MAX_BYTES + 1]);
    assertEquals(413, tooBig.status(), tooBig.body());
    assertEquals("too_many_bytes", tooBig.error());
    assertTrue(
        tooBig.json().path("message").asText().contains("Content-Length " + (MAX_BYTES + 1)),
        tooBig.body());

    // Chunked: no Content-Length, so the capped read finds it.
    Answer chunked =
        send(
            HttpRequest.newBuilder(base.resolve(EmbeddingService.EMBED_PATH))
                .header("Content-Type", "image/png")
                .POST(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(new byte[(int) MAX_BYTES * 2]))));
    assertEquals(413, chunked.status(), chunked.body());
    assertEquals("too_many_bytes", chunked.error());

    // 400×400 = 160,000 pixels in about a kilobyte of PNG: refused from the header, before
    // decoding.
    BufferedImage big = new BufferedImage(400, 400, BufferedImage.TYPE_BYTE_GRAY);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ImageIO.write(big, "png", bytes);
    assertTrue(bytes.size() < MAX_BYTES);
    Answer pixels = post(base, "image/png", bytes.toByteArray());
    assertEquals(413, pixels.status(), pixels.body());
    assertEquals("too_many_pixels", pixels.error());

    Answer wrongMethod = get(base, EmbeddingService.EMBED_PATH);
    assertEquals(405, wrongMethod.status());
    assertEquals("POST", wrongMethod.response().headers().firstValue("Allow").orElseThrow());
    assertEquals(404, get(base, "/v2/nothing").status());

    // The service still serves after all that.
    assertEquals(200, post(base, "image/png", png).status());
  }

  @Test
  void aBadContentLengthIs400() throws Exception {
    // HttpClient will not send a malformed Content-Length; a raw request will.
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST "
                  + EmbeddingService.EMBED_PATH
                  + " HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                  + "Content-Length: -5\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
    }
  }

  @Test
  void aTokenGuardsTheApiButNotTheProbes() throws Exception {
    try (EmbeddingService guarded =
        EmbeddingService.start(
            ServeOptions.defaults("unused:9092", "http://unused", MODEL)
                .withListen("127.0.0.1", 0)
                .withToken("s3cret-token"),
            running.encoder())) {
      URI uri = guarded.uri();
      byte[] png = SyntheticVersions.png(16, 1, 3);
      Answer none = post(uri, "image/png", png);
      assertEquals(401, none.status(), none.body());
      assertEquals("unauthorized", none.error());
      assertTrue(
          none.response()
              .headers()
              .firstValue("WWW-Authenticate")
              .orElseThrow()
              .startsWith("Bearer"));
      Answer wrong =
          send(
              HttpRequest.newBuilder(uri.resolve(EmbeddingService.EMBED_PATH))
                  .header("Authorization", "Bearer s3cret-tokem")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(png)));
      assertEquals(401, wrong.status());
      Answer prefix =
          send(
              HttpRequest.newBuilder(uri.resolve(EmbeddingService.MODELS_PATH))
                  .header("Authorization", "Bearer s3cret")
                  .GET());
      assertEquals(401, prefix.status());
      assertEquals(
          401, get(uri, "/v1/unknown").status(), "unknown /v1 routes are not revealed either");
      Answer right =
          send(
              HttpRequest.newBuilder(uri.resolve(EmbeddingService.EMBED_PATH))
                  .header("Authorization", "Bearer s3cret-token")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(png)));
      assertEquals(200, right.status(), right.body());
      assertEquals(
          200,
          send(HttpRequest.newBuilder(uri.resolve(EmbeddingService.MODELS_PATH))
                  .header("Authorization", "bearer s3cret-token")
                  .GET())
              .status());
      assertEquals(200, get(uri, EmbeddingService.LIVE_PATH).status());
      assertEquals(200, get(uri, EmbeddingService.READY_PATH).status());
      assertEquals(200, get(uri, EmbeddingService.METRICS_PATH).status());
      assertEquals(
          2.0,
          awaitMetric(
              uri, "mocostream_http_requests_total{endpoint=\"/v1/embed\",status=\"401\"}", 2));
    }
  }

  @Test
  void modelsShowsTheServingVersionItsMetricsAndLineage() throws Exception {
    Answer a = get(base, EmbeddingService.MODELS_PATH);
    assertEquals(200, a.status(), a.body());
    JsonNode json = a.json();
    assertEquals(MODEL, json.path("model").asText());
    assertEquals(models.topic, json.path("topic").asText());
    assertTrue(json.path("ready").asBoolean());
    JsonNode current = json.path("current");
    assertEquals(1, current.path("version").asLong());
    assertTrue(current.path("parentVersion").isNull());
    assertEquals(v1.getStep(), current.path("step").asLong());
    assertEquals(v1.getPayloadSha256(), current.path("payloadSha256").asText());
    assertEquals(models.signer.keyId(), current.path("keyId").asText());
    assertEquals(TestModels.ARCH.toString(), current.path("architecture").asText());
    assertEquals(TestModels.ARCH.featureDim(), current.path("featureDim").asInt());
    assertEquals(
        v1.getMetrics().getKnnTop1(), current.path("metrics").path("knnTop1").asDouble(), 1e-12);
    assertEquals(v1.getMetrics().getLoss(), current.path("metrics").path("loss").asDouble(), 1e-12);
    JsonNode range = current.path("lineage").path("ranges").get(0);
    assertEquals(v1.getLineage().getRanges().get(0).getTopic(), range.path("topic").asText());
    assertEquals(v1.getLineage().getRanges().get(0).getToOffset(), range.path("toOffset").asLong());
    assertEquals(v1.getLineage().getLastStep(), current.path("lineage").path("lastStep").asLong());
    assertEquals(1, json.path("versions").path("accepted").asLong());
    assertEquals(0, json.path("versions").path("refused").path("SHA_MISMATCH").asLong());
  }

  @Test
  void metricsExposeRequestsLatencyVersionAndRefusals() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertEquals(200, post(base, "image/png", SyntheticVersions.png(16, 1, 100 + i)).status());
    }
    assertTrue(
        awaitMetric(
                base, "mocostream_http_requests_total{endpoint=\"/v1/embed\",status=\"200\"}", 3)
            >= 3);
    String text = get(base, EmbeddingService.METRICS_PATH).body();
    assertTrue(
        metric(text, "mocostream_http_request_seconds_count{endpoint=\"/v1/embed\"}") >= 3, text);
    assertTrue(
        text.contains("mocostream_http_request_seconds_bucket{endpoint=\"/v1/embed\",le=\""), text);
    assertEquals(1.0, metric(text, "mocostream_encoder_version{model=\"svc\"}"));
    assertEquals(1.0, metric(text, "mocostream_encoder_ready{model=\"svc\"}"));
    assertEquals(
        0.0,
        metric(
            text,
            "mocostream_encoder_versions_refused_total{model=\"svc\",reason=\"UNKNOWN_KEY\"}"));
    assertTrue(metric(text, "mocostream_encoder_embeddings_total{model=\"svc\"}") >= 3, text);
    assertTrue(text.contains("jvm_memory_used_bytes"), "JVM binders registered");
  }

  /**
   * The value of {@code series} once it reaches {@code atLeast} (or after 10 s): a request is
   * counted just after its answer is sent, so the client may ask for the metrics a moment before
   * its last request is counted.
   */
  double awaitMetric(URI uri, String series, double atLeast) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    double value;
    do {
      value = metric(get(uri, EmbeddingService.METRICS_PATH).body(), series);
    } while (value < atLeast && System.nanoTime() < deadline);
    return value;
  }

  /**
   * The value of the series named exactly {@code series} (name and labels) in a Prometheus text
   * exposition.
   */
  static double metric(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    throw new AssertionError("no series " + series + " in:\n" + text);
  }

  @Test
  void readyOnlyOnceAVerifiedVersionServes(KafkaCluster cluster) throws Exception {
    try (TestModels other = new TestModels(cluster, "ready", dir);
        ServeCommand.Running svc =
            ServeCommand.start(
                ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), "late")
                    .withModelTopic(other.topic, other.trustFile)
                    .withListen("127.0.0.1", 0))) {
      URI uri = svc.service().uri();
      assertEquals(200, get(uri, EmbeddingService.LIVE_PATH).status());
      Answer notReady = get(uri, EmbeddingService.READY_PATH);
      assertEquals(503, notReady.status(), notReady.body());
      assertEquals("not_ready", notReady.json().path("status").asText());
      Answer embed = post(uri, "image/png", SyntheticVersions.png(16, 1, 4));
      assertEquals(503, embed.status(), embed.body());
      assertEquals("not_ready", embed.error());
      assertTrue(embed.response().headers().firstValue("Retry-After").isPresent());
      assertFalse(get(uri, EmbeddingService.MODELS_PATH).json().path("ready").asBoolean());

      // A version signed by a key nobody trusts is refused: still not ready, and the refusal is
      // counted.
      other.publishUntrusted("late", 1);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (svc.encoder().refusedCount() == 0) {
        assertTrue(System.nanoTime() < deadline, "untrusted version not refused within 30 s");
        Thread.sleep(50);
      }
      assertEquals(503, get(uri, EmbeddingService.READY_PATH).status());
      assertEquals(
          1.0,
          metric(
              get(uri, EmbeddingService.METRICS_PATH).body(),
              "mocostream_encoder_versions_refused_total{model=\"late\",reason=\"UNKNOWN_KEY\"}"));
      assertEquals(
          0.0,
          metric(
              get(uri, EmbeddingService.METRICS_PATH).body(),
              "mocostream_encoder_ready{model=\"late\"}"));

      other.publish("late", 2);
      assertTrue(svc.encoder().awaitReady(Duration.ofSeconds(30)), "trusted version 2 not served");
      Answer ready = get(uri, EmbeddingService.READY_PATH);
      assertEquals(200, ready.status(), ready.body());
      assertEquals(2, ready.json().path("version").asLong());
      Answer ok = post(uri, "image/png", SyntheticVersions.png(16, 1, 4));
      assertEquals(200, ok.status(), ok.body());
      assertEquals(2, ok.json().path("version").asLong());
    }
  }

  @Test
  void requestsBeyondWorkersAndQueueAreAnswered503NotDropped(KafkaCluster cluster)
      throws Exception {
    LiveEncoder encoder = running.encoder();
    try (EmbeddingService one =
        EmbeddingService.start(
            ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
                .withListen("127.0.0.1", 0)
                .withThreads(1, 0),
            encoder)) {
      URI uri = one.uri();
      // Occupy the only worker: a request whose promised body never comes (the handler blocks
      // reading it).
      try (Socket slow = new Socket(uri.getHost(), uri.getPort())) {
        slow.getOutputStream()
            .write(
                ("POST "
                        + EmbeddingService.EMBED_PATH
                        + " HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: image/png\r\nContent-Length: 1000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        slow.getOutputStream().flush();
        Answer shed = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        // The slow request reaches the worker asynchronously: retry until the worker is taken.
        while (System.nanoTime() < deadline) {
          shed = post(uri, "image/png", SyntheticVersions.png(16, 1, 5));
          if (shed.status() == 503) {
            break;
          }
          Thread.sleep(20);
        }
        assertNotNull(shed);
        assertEquals(503, shed.status(), shed.body());
        assertEquals("overloaded", shed.error());
        assertEquals("1", shed.response().headers().firstValue("Retry-After").orElseThrow());
      }
      // The worker is free again once the slow client goes away.
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      int status = 0;
      while (System.nanoTime() < deadline && status != 200) {
        status = post(uri, "image/png", SyntheticVersions.png(16, 1, 6)).status();
      }
      assertEquals(200, status);
      // The one worker may still be finishing that request (it counts it after answering): a scrape
      // can be shed too.
      Answer scrape;
      do {
        scrape = get(uri, EmbeddingService.METRICS_PATH);
      } while (scrape.status() == 503 && System.nanoTime() < deadline);
      assertEquals(200, scrape.status(), scrape.body());
      assertTrue(metric(scrape.body(), "mocostream_http_shed_total") >= 1);
    }
  }
}
