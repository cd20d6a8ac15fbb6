package io.mocostream.serving.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.registry.http.HttpDefences;
import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.SlowClients;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: slowloris against {@code serve}. The JDK server reads a request on the worker that will
 * handle it, so connections that trickle their headers (or their body) hold the workers; before the
 * request deadline, 17 of them stopped a default service for good. Attack: more slow connections
 * than workers and queue slots together, then an ordinary request. Defence: the request deadline
 * cuts the slow ones off and the ordinary request is served.
 */
@ExtendWith(KafkaClusterExtension.class)
class SlowlorisAttackTest {
  private static final int THREADS = 2;
  private static final int QUEUE = 2;

  @Test
  void slowConnectionsAreCutOffAndAnOrdinaryRequestIsServed(KafkaCluster cluster, @TempDir Path dir)
      throws Exception {
    Duration deadline = HttpDefences.requestDeadline();
    assertTrue(
        deadline != null && deadline.compareTo(Duration.ofSeconds(60)) < 0,
        "a request deadline is in force: " + deadline);
    try (AttackedService serve =
            new AttackedService(cluster, dir, "slowloris", o -> o.withThreads(THREADS, QUEUE));
        SlowClients slow =
            SlowClients.open(
                serve.base, THREADS + QUEUE + 2, "POST", "/v1/embed", Duration.ofSeconds(1))) {
      byte[] png = SyntheticVersions.png(16, 1, 1);
      // The ordinary client retries on 503 as Retry-After asks; it must be served within the
      // deadline and a margin.
      long giveUp = System.nanoTime() + deadline.plusSeconds(30).toNanos();
      int status = -1;
      int attempts = 0;
      while (status != 200 && System.nanoTime() < giveUp) {
        attempts++;
        try {
          HttpResponse<String> r = serve.embed(png);
          status = r.statusCode();
          if (status == 503) {
            Thread.sleep(
                1000L * Integer.parseInt(r.headers().firstValue("Retry-After").orElse("1")));
          }
        } catch (java.io.IOException timedOutOrReset) {
          status = -1;
        }
      }
      assertEquals(
          200,
          status,
          "an ordinary request is served while slow clients attack (" + attempts + " attempts)");
      assertTrue(
          slow.awaitAllCutOff(deadline.plusSeconds(10)),
          slow.stillOpen() + " slow connections still open");
      // And the service keeps serving after the attack.
      assertEquals(200, serve.embed(png).statusCode());
    }
  }
}
