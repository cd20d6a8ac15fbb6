package io.mocostream.registry.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.RawHttp;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Threat: slowloris against the embedded registry; 4 slow connections held its 4 workers and every
 * producer and consumer that needed a schema stalled. Attack: more slow connections than workers
 * and queue slots together, then an ordinary lookup. Defence: the request deadline cuts them off
 * and the lookup is answered.
 */
class RegistrySlowlorisAttackTest {
  @Test
  void slowConnectionsAreCutOffAndAnOrdinaryRequestIsAnswered() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
        EmbeddedSchemaRegistry registry =
            EmbeddedSchemaRegistry.builder(kafka.bootstrapServers())
                .port(0)
                .threads(4)
                .queue(2)
                .start()) {
      Duration deadline = HttpDefences.requestDeadline();
      assertTrue(deadline != null, "a request deadline is in force");
      RawHttp http = new RawHttp(registry.url());
      try (SlowRequests slow =
          new SlowRequests(registry.port(), 4 + 2 + 2, "GET /subjects HTTP/1.1")) {
        long giveUp = System.nanoTime() + deadline.plusSeconds(30).toNanos();
        int status = -1;
        while (status != 200 && System.nanoTime() < giveUp) {
          try {
            status = http.get("/subjects").status();
          } catch (AssertionError timedOutOrReset) {
            status = -1;
          }
          if (status != 200) {
            Thread.sleep(1000);
          }
        }
        assertEquals(200, status, "an ordinary request is answered while slow clients attack");
        assertTrue(
            slow.awaitAllCutOff(deadline.plusSeconds(10)),
            slow.stillOpen() + " slow connections still open");
      }
    }
  }
}
