package io.mocostream.registry.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.RawHttp;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import org.junit.jupiter.api.Test;

/**
 * Threat: requests queueing without bound at the registry (its pool's queue was unbounded). Attack:
 * occupy every worker and queue slot with slow requests, then send an ordinary one. Defence: it is
 * answered 503 (error_code 503, {@code Retry-After}) at once instead of waiting behind the flood;
 * after the flood the registry serves.
 */
class RegistryQueueFloodAttackTest {
  @Test
  void aFullQueueAnswers503AtOnce() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
        EmbeddedSchemaRegistry registry =
            EmbeddedSchemaRegistry.builder(kafka.bootstrapServers())
                .port(0)
                .threads(2)
                .queue(2)
                .start()) {
      RawHttp http = new RawHttp(registry.url());
      try (SlowRequests flood =
          new SlowRequests(registry.port(), 2 + 2, "GET /subjects HTTP/1.1")) {
        Thread.sleep(1000); // every flood connection handed to the pool
        http.get("/subjects")
            .assertError(503, 503); // RawHttp's own timeout (30 s) is far above an answer "at once"
      }
      long giveUp = System.nanoTime() + 60_000_000_000L;
      int status = -1;
      while (status != 200 && System.nanoTime() < giveUp) {
        status = http.get("/subjects").status();
        if (status != 200) {
          Thread.sleep(500);
        }
      }
      assertEquals(200, status, "the registry serves again after the flood");
    }
  }
}
