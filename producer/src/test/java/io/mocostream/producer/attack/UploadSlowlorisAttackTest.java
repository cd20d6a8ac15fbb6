package io.mocostream.producer.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.producer.ProduceSummary;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.SlowClients;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: slowloris against the upload endpoint; 16 slow connections held its 16 workers for good.
 * Attack: more slow connections than workers and queue slots together, then an ordinary upload.
 * Defence: the request deadline cuts them off and the upload is published.
 */
@ExtendWith(KafkaClusterExtension.class)
class UploadSlowlorisAttackTest {
  @Test
  void slowConnectionsAreCutOffAndAnOrdinaryUploadIsPublished(KafkaCluster cluster)
      throws Exception {
    Duration deadline = HttpDefences.requestDeadline();
    assertTrue(deadline != null, "a request deadline is in force");
    UploadEndpointUnderAttack endpoint = new UploadEndpointUnderAttack(cluster, null, 1, null);
    int slowCount = FrameEndpoint.DEFAULT_THREADS + FrameEndpoint.DEFAULT_QUEUE + 2;
    try (SlowClients slow =
        SlowClients.open(
            endpoint.base, slowCount, "POST", FrameEndpoint.FRAMES_PATH, Duration.ofSeconds(1))) {
      long giveUp = System.nanoTime() + deadline.plusSeconds(30).toNanos();
      int status = -1;
      while (status != 201 && System.nanoTime() < giveUp) {
        try {
          HttpResponse<String> r = endpoint.upload(TestImages.png(32, 24));
          status = r.statusCode();
          if (status == 503) {
            Thread.sleep(
                1000L * Integer.parseInt(r.headers().firstValue("Retry-After").orElse("1")));
          }
        } catch (IOException timedOutOrReset) {
          status = -1;
        }
      }
      assertEquals(201, status, "an ordinary upload is published while slow clients attack");
      assertTrue(
          slow.awaitAllCutOff(deadline.plusSeconds(10)),
          slow.stillOpen() + " slow connections still open");
    }
    ProduceSummary s = endpoint.run.get(60, TimeUnit.SECONDS); // --max 1 reached
    assertEquals(1, s.published());
  }
}
