package io.mocostream.serving.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: many large decodes at once. An image within the pixel limit is small on the wire (a flat
 * 16 Mpx PNG is ~20 KB) but large on the heap once decoded; sixteen workers decoding such images
 * together could exhaust the heap, and the OutOfMemoryError escaped the handler. Attack: 16
 * concurrent uploads of 16 Mpx PNGs, with the pixel limit raised so that the gate's worst case per
 * decode is a quarter of the heap. Defence: the decode gate admits only what half the heap holds;
 * the rest wait or get 503; every request is answered and the service keeps serving.
 */
@ExtendWith(KafkaClusterExtension.class)
class DecodeFloodAttackTest {
  private static final int CLIENTS = 16;

  @Test
  void concurrentHugeDecodesAreGatedAndEveryRequestAnswered(KafkaCluster cluster, @TempDir Path dir)
      throws Exception {
    // Worst case per decode = maxPixels × 16 B; a pixel limit of heap/64 px makes that a quarter of
    // the heap: 2 permits.
    long maxPixels =
        Math.min(
            (Integer.MAX_VALUE - 8) / 3, Math.max(1L << 24, Runtime.getRuntime().maxMemory() / 64));
    try (AttackedService serve =
        new AttackedService(
            cluster,
            dir,
            "decode-flood",
            o -> o.withThreads(CLIENTS, CLIENTS).withLimits(8L << 20, maxPixels))) {
      int permits = serve.running.service().decodePermits();
      assertTrue(
          permits < CLIENTS, "the gate admits fewer decodes than there are workers: " + permits);

      BufferedImage big = new BufferedImage(4096, 4096, BufferedImage.TYPE_BYTE_GRAY); // 16 Mpx
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(big, "png", png);
      byte[] bomb = png.toByteArray();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      try {
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
          answers.add(clients.submit(() -> serve.embed(bomb)));
        }
        int ok = 0;
        for (Future<HttpResponse<String>> f : answers) {
          HttpResponse<String> r = f.get(5, TimeUnit.MINUTES);
          assertTrue(
              r.statusCode() == 200 || r.statusCode() == 503, r.statusCode() + " " + r.body());
          ok += r.statusCode() == 200 ? 1 : 0;
        }
        assertTrue(ok > 0, "some of the large images were embedded");
      } finally {
        clients.shutdownNow();
      }
      assertTrue(
          serve.running.service().decodePeak() <= permits,
          "decodes in flight at once: "
              + serve.running.service().decodePeak()
              + ", permits "
              + permits);
      assertEquals(
          200,
          serve.embed(SyntheticVersions.png(16, 1, 1)).statusCode(),
          "the service keeps serving");
    }
  }
}
