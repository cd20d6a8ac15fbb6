package io.mocostream.serving.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.schemas.ContentType;
import io.mocostream.serving.TestModels;
import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new version published while several clients keep embedding: no request fails, none is answered
 * by a mix.
 */
@ExtendWith(KafkaClusterExtension.class)
class SwapUnderLoadTest {
  private static final String MODEL = "swap";
  private static final int CLIENTS = 4;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What one client saw: per request the status, the version and the vector, in order. */
  record Seen(int image, int status, long version, float[] vector, String error) {}

  @Test
  void aSwapUnderConcurrentLoadFailsNoRequest(KafkaCluster cluster, @TempDir Path dir)
      throws Exception {
    List<byte[]> images = new ArrayList<>();
    float[][][] reference = new float[3][CLIENTS][]; // [version][image]
    for (int i = 0; i < CLIENTS; i++) {
      images.add(SyntheticVersions.png(16 + 4 * i, 1, 40 + i));
      for (int v = 1; v <= 2; v++) {
        reference[v][i] =
            TestModels.reference(
                v, new ImageDecoder().decode(ContentType.PNG, images.get(i), null, null, "test"));
      }
    }
    try (TestModels models = new TestModels(cluster, "swap", dir)) {
      models.publish(MODEL, 1);
      try (ServeCommand.Running svc =
          ServeCommand.start(
              ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
                  .withModelTopic(models.topic, models.trustFile)
                  .withListen("127.0.0.1", 0))) {
        assertTrue(svc.encoder().awaitReady(Duration.ofSeconds(60)));
        URI uri = svc.service().uri().resolve(EmbeddingService.EMBED_PATH);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<List<Seen>>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
          int image = c;
          clients.add(
              pool.submit(
                  () -> {
                    List<Seen> seen = new ArrayList<>();
                    int afterSwap = 0;
                    // Every client keeps going until it has itself been answered by version 2
                    // twenty times.
                    while (!stop.get() && afterSwap < 20) {
                      try {
                        HttpResponse<String> r =
                            http.send(
                                HttpRequest.newBuilder(uri)
                                    .header("Content-Type", "image/png")
                                    .timeout(Duration.ofSeconds(30))
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(images.get(image)))
                                    .build(),
                                HttpResponse.BodyHandlers.ofString());
                        JsonNode json = JSON.readTree(r.body());
                        float[] vector = new float[json.path("vector").size()];
                        for (int i = 0; i < vector.length; i++) {
                          vector[i] = (float) json.path("vector").get(i).asDouble();
                        }
                        long version = json.path("version").asLong(-1);
                        seen.add(
                            new Seen(
                                image,
                                r.statusCode(),
                                version,
                                vector,
                                r.statusCode() == 200 ? null : r.body()));
                        if (version == 2) {
                          afterSwap++;
                        }
                      } catch (Exception e) {
                        seen.add(new Seen(image, -1, -1, null, e.toString()));
                      }
                    }
                    return seen;
                  }));
        }
        Thread.sleep(1000); // every client is embedding with version 1
        models.publish(MODEL, 2);
        List<List<Seen>> all = new ArrayList<>();
        try {
          for (Future<List<Seen>> f : clients) {
            all.add(f.get(120, TimeUnit.SECONDS));
          }
        } finally {
          stop.set(true);
          pool.shutdownNow();
        }

        int total = 0;
        int v1 = 0;
        for (List<Seen> seen : all) {
          long last = 0;
          for (Seen s : seen) {
            total++;
            assertEquals(200, s.status(), "request failed during the swap: " + s.error());
            assertTrue(
                s.version() >= last,
                "a client went back from version " + last + " to " + s.version());
            last = s.version();
            if (s.version() == 1) {
              v1++;
            }
            assertArrayEquals(
                reference[(int) s.version()][s.image()],
                s.vector(),
                1e-5f,
                "vector of image " + s.image() + " is not version " + s.version() + "'s");
          }
          assertEquals(2, last);
        }
        assertTrue(
            v1 >= CLIENTS,
            "every client was served by version 1 before the swap (" + v1 + " of " + total + ")");
        assertEquals(1, svc.encoder().swapCount());
        assertEquals(0, svc.encoder().refusedCount());
        // Version 1 is closed once its last request finished.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (svc.encoder().retiredVersionsClosed() < 1) {
          assertTrue(System.nanoTime() < deadline, "retired version 1 never closed");
          Thread.sleep(20);
        }
        // A request is counted just after its answer is sent: give the last ones a moment.
        String metrics;
        String series = "mocostream_http_requests_total{endpoint=\"/v1/embed\",status=\"200\"}";
        deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
          metrics =
              http.send(
                      HttpRequest.newBuilder(
                              svc.service().uri().resolve(EmbeddingService.METRICS_PATH))
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body();
        } while (EmbeddingServiceTest.metric(metrics, series) < total
            && System.nanoTime() < deadline);
        assertEquals(total, EmbeddingServiceTest.metric(metrics, series));
        assertEquals(
            2.0,
            EmbeddingServiceTest.metric(metrics, "mocostream_encoder_version{model=\"swap\"}"));
        assertEquals(
            1.0,
            EmbeddingServiceTest.metric(metrics, "mocostream_encoder_swaps_total{model=\"swap\"}"));
      }
    }
  }
}
