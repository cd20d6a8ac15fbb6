package io.mocostream.producer.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.Reason;
import io.mocostream.producer.ProduceCommand;
import io.mocostream.producer.ProduceOptions;
import io.mocostream.producer.ProduceSummary;
import io.mocostream.producer.testing.Frames;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The upload endpoint through the produce command, against a real broker and registry. */
@ExtendWith(KafkaClusterExtension.class)
class FrameEndpointIntegrationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> post(URI uri, String contentType, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> r, int status, Reason reason)
      throws IOException {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode body = JSON.readTree(r.body());
    assertEquals(reason.code(), body.get("error").asText(), r.body());
    assertTrue(body.get("message").asText().length() > 5, r.body());
  }

  @Test
  void uploadsAreAnsweredAfterTheAckAndBadOnesRefused(KafkaCluster cluster) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String topic = "uploads-" + UUID.randomUUID().toString().substring(0, 8);
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    ProduceOptions opts =
        ProduceOptions.of(
                cluster.bootstrapServers(), cluster.registryUrl(), "http:127.0.0.1:" + port)
            .withTopic(topic)
            .withMax(2)
            .withLimits(new FrameLimits(50_000, FrameLimits.DEFAULT_MAX_PIXELS))
            .withProgress(ProduceOptions.ProgressMode.QUIET);
    CompletableFuture<ProduceSummary> run =
        CompletableFuture.supplyAsync(
            () -> ProduceCommand.run(opts, new PrintStream(printed, true, StandardCharsets.UTF_8)));

    URI base = URI.create("http://127.0.0.1:" + port);
    URI frames = base.resolve(FrameEndpoint.FRAMES_PATH);
    awaitHealthy(base.resolve(FrameEndpoint.HEALTH_PATH), run);

    byte[] png = TestImages.png(40, 30);
    HttpResponse<String> ok =
        post(URI.create(frames + "?sourceId=cam-1&label=3"), "image/png", png);
    assertEquals(201, ok.statusCode(), ok.body());
    JsonNode first = JSON.readTree(ok.body());
    assertEquals(topic, first.get("topic").asText());
    assertEquals("cam-1", first.get("sourceId").asText());
    assertEquals(0, first.get("sequence").asLong());

    assertError(post(frames, "image/png", new byte[0]), 400, Reason.EMPTY);
    byte[] jpeg = TestImages.jpeg(300, 300);
    assertError(
        post(frames, "image/jpeg", Arrays.copyOf(jpeg, jpeg.length / 2)), 400, Reason.UNDECODABLE);
    assertError(
        post(frames, "text/plain", "hello".getBytes(StandardCharsets.UTF_8)),
        415,
        Reason.UNSUPPORTED_TYPE);
    assertError(post(frames, "image/jpeg", png), 415, Reason.TYPE_MISMATCH);
    assertError(
        post(frames, "image/png", TestImages.pngHeaderOnly(100_000, 100_000)),
        413,
        Reason.TOO_MANY_PIXELS);
    assertError(post(URI.create(frames + "?label=cat"), "image/png", png), 400, Reason.BAD_REQUEST);
    byte[] big = new byte[80_000];
    System.arraycopy(png, 0, big, 0, png.length);
    assertError(post(frames, "image/png", big), 413, Reason.TOO_MANY_BYTES);
    // Chunked (no Content-Length): the read is capped at the limit.
    HttpResponse<String> chunked =
        http.send(
            HttpRequest.newBuilder(frames)
                .header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertError(chunked, 413, Reason.TOO_MANY_BYTES);
    assertEquals(
        405,
        http.send(
                HttpRequest.newBuilder(frames).GET().build(), HttpResponse.BodyHandlers.ofString())
            .statusCode());

    byte[] small = TestImages.jpeg(64, 48);
    HttpResponse<String> second =
        http.send(
            HttpRequest.newBuilder(frames)
                .header("Content-Type", "image/jpeg")
                .header(FrameEndpoint.SOURCE_ID_HEADER, "cam-1")
                .header(FrameEndpoint.LABEL_HEADER, "4")
                .POST(HttpRequest.BodyPublishers.ofByteArray(small))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, second.statusCode(), second.body());
    JsonNode secondJson = JSON.readTree(second.body());
    assertEquals(1, secondJson.get("sequence").asLong());
    assertEquals(first.get("partition").asInt(), secondJson.get("partition").asInt());
    assertEquals(first.get("offset").asLong() + 1, secondJson.get("offset").asLong());

    // --max 2 reached: the command ends by itself with its summary.
    ProduceSummary s = run.get(60, TimeUnit.SECONDS);
    assertEquals(2, s.published());
    assertEquals(1, s.refused(Reason.EMPTY));
    assertEquals(1, s.refused(Reason.UNDECODABLE));
    assertEquals(1, s.refused(Reason.UNSUPPORTED_TYPE));
    assertEquals(1, s.refused(Reason.TYPE_MISMATCH));
    assertEquals(1, s.refused(Reason.TOO_MANY_PIXELS));
    assertEquals(1, s.refused(Reason.BAD_REQUEST));
    assertEquals(2, s.refused(Reason.TOO_MANY_BYTES));
    assertTrue(
        printed
            .toString(StandardCharsets.UTF_8)
            .contains("POST images to http://127.0.0.1:" + port + "/v1/frames"));

    List<ConsumerRecord<String, ImageFrame>> records =
        Frames.read(cluster, topic, 2, Duration.ofSeconds(60));
    assertEquals(2, records.size());
    ImageFrame f0 = records.get(0).value();
    ImageFrame f1 = records.get(1).value();
    assertEquals(first.get("offset").asLong(), records.get(0).offset());
    assertEquals(ContentType.PNG, f0.getContentType());
    assertEquals(3, f0.getLabel());
    assertEquals(40, f0.getWidth());
    assertEquals(ContentType.JPEG, f1.getContentType());
    assertEquals(4, f1.getLabel());
    assertEquals("cam-1", records.get(1).key());
    ByteBuffer b = f1.getData().duplicate();
    byte[] got = new byte[b.remaining()];
    b.get(got);
    assertArrayEquals(small, got);
  }

  private void awaitHealthy(URI health, CompletableFuture<ProduceSummary> run) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (run.isDone()) {
        run.join(); // surfaces the command's failure
        throw new AssertionError("the produce command ended before serving");
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(health).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          assertEquals("ok", JSON.readTree(r.body()).get("status").asText());
          return;
        }
      } catch (ConnectException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("upload endpoint did not come up at " + health);
  }
}
