package io.mocostream.producer.attack;

import io.mocostream.producer.ProduceCommand;
import io.mocostream.producer.ProduceOptions;
import io.mocostream.producer.ProduceSummary;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.testkit.KafkaCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code mocostream produce --source http:...} as a user runs it, against the real broker and
 * registry, stopping by itself after {@code max} published frames (the attack tests end with
 * ordinary uploads).
 */
final class UploadEndpointUnderAttack {
  final URI base;
  final URI frames;
  final String topic = "attacked-uploads-" + UUID.randomUUID().toString().substring(0, 8);
  final CompletableFuture<ProduceSummary> run;
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  /**
   * @param host null: the default bind address
   */
  UploadEndpointUnderAttack(KafkaCluster cluster, String host, int max, String token)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    ProduceOptions opts =
        ProduceOptions.of(
                cluster.bootstrapServers(),
                cluster.registryUrl(),
                "http:" + (host == null ? "" : host + ":") + port)
            .withTopic(topic)
            .withMax(max)
            .withProgress(ProduceOptions.ProgressMode.QUIET)
            .withUploadToken(token);
    run =
        CompletableFuture.supplyAsync(
            () ->
                ProduceCommand.run(
                    opts,
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    base = URI.create("http://127.0.0.1:" + port);
    frames = base.resolve(FrameEndpoint.FRAMES_PATH);
    awaitHealthy();
  }

  private void awaitHealthy() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (run.isDone()) {
        run.join();
        throw new AssertionError("the produce command ended before serving");
      }
      try {
        if (http.send(
                    HttpRequest.newBuilder(base.resolve(FrameEndpoint.HEALTH_PATH)).GET().build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return;
        }
      } catch (ConnectException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("upload endpoint did not come up at " + base);
  }

  HttpResponse<String> upload(byte[] png, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(frames)
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "image/png")
            .POST(HttpRequest.BodyPublishers.ofByteArray(png));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
