package io.mocostream.producer.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Threat: a flood of requests queueing without bound at the upload endpoint (its pool's queue was
 * unbounded: memory and latency grew with the flood). Attack: occupy every worker and queue slot
 * with slow requests, then send an ordinary upload. Defence: the queue is bounded and the upload is
 * answered 503 with Retry-After at once (long before any slow request is cut off), instead of
 * waiting behind the flood.
 */
@ExtendWith(KafkaClusterExtension.class)
class UploadQueueFloodAttackTest {
  @Test
  void aFullQueueAnswers503AtOnce(KafkaCluster cluster) throws Exception {
    UploadEndpointUnderAttack endpoint = new UploadEndpointUnderAttack(cluster, null, 1, null);
    try (SlowClients flood =
        SlowClients.open(
            endpoint.base,
            FrameEndpoint.DEFAULT_THREADS + FrameEndpoint.DEFAULT_QUEUE,
            "POST",
            FrameEndpoint.FRAMES_PATH,
            Duration.ofSeconds(1))) {
      Thread.sleep(1000); // every flood connection handed to the pool
      HttpResponse<String> r =
          endpoint.http.send(
              java.net.http.HttpRequest.newBuilder(endpoint.frames)
                  .timeout(HttpDefences.requestDeadline().dividedBy(2))
                  .header("Content-Type", "image/png")
                  .POST(
                      java.net.http.HttpRequest.BodyPublishers.ofByteArray(TestImages.png(32, 24)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(503, r.statusCode(), r.body());
      assertTrue(r.body().contains("overloaded"), r.body());
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(null));
    }
    // After the flood: an ordinary upload goes through, and ends the run (--max 1).
    long giveUp = System.nanoTime() + HttpDefences.requestDeadline().plusSeconds(30).toNanos();
    int status = -1;
    while (status != 201 && System.nanoTime() < giveUp) {
      try {
        status = endpoint.upload(TestImages.png(32, 24)).statusCode();
      } catch (IOException e) {
        status = -1;
      }
      if (status != 201) {
        Thread.sleep(1000);
      }
    }
    assertEquals(201, status);
    assertEquals(1, endpoint.run.get(60, TimeUnit.SECONDS).published());
  }
}
