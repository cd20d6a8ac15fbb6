package io.mocostream.metrics.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mocostream.metrics.Health;
import io.mocostream.metrics.MetricsServer;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.testkit.Scrape;
import io.mocostream.testkit.SlowClients;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Threat: slowloris against a {@code --metrics-port}: connections that trickle their request hold
 * the endpoint's two workers and its queue, and the scraper and the probes (a pod restarted for a
 * failed liveness probe) get nothing. Attack: more slow connections than workers and queue slots
 * together, then a scrape and a probe. Defence: the request deadline cuts the slow ones off;
 * meanwhile the overflow is answered 503 by the shedder, and afterwards the scrape and the probe
 * are served.
 */
class MetricsSlowlorisAttackTest {

  @Test
  void slowConnectionsAreCutOffAndTheScrapeAndProbeAreServed() throws Exception {
    Duration deadline = HttpDefences.requestDeadline();
    assertTrue(
        deadline != null && deadline.compareTo(Duration.ofSeconds(60)) < 0,
        "a request deadline: " + deadline);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (MetricsServer server =
            MetricsServer.start("127.0.0.1", 0, registry, () -> Health.Status.ready("ok"));
        SlowClients slow =
            SlowClients.open(server.uri(), 2 + 16 + 4, "GET", "/metrics", Duration.ofSeconds(1))) {
      long giveUp = System.nanoTime() + deadline.plusSeconds(30).toNanos();
      int status = -1;
      while (status != 200 && System.nanoTime() < giveUp) {
        try {
          status = Scrape.get(server.uri(), MetricsServer.METRICS_PATH).status();
        } catch (java.io.IOException timedOutOrReset) {
          status = -1;
        }
        if (status != 200) {
          Thread.sleep(1000);
        }
      }
      assertEquals(200, status, "a scrape is served while slow clients attack");
      assertTrue(
          slow.awaitAllCutOff(deadline.plusSeconds(10)),
          slow.stillOpen() + " slow connections still open");
      assertEquals(200, Scrape.get(server.uri(), MetricsServer.LIVE_PATH).status());
      assertTrue(
          Scrape.get(server.uri(), MetricsServer.METRICS_PATH).value("mocostream_ready") == 1);
    }
  }
}
