package io.mocostream.registry.server;

import static io.mocostream.registry.RawHttp.schemaBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.RawHttp;
import io.mocostream.registry.RawHttp.Reply;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * When Kafka refuses a write or is gone, the registry answers Confluent's 5xx codes instead of
 * hanging.
 */
class RegistryStoreFailureTest {

  @Test
  void storeErrorsAre50001AndTimeouts50002WhileReadsKeepWorking() {
    EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
    boolean kafkaClosed = false;
    try (EmbeddedSchemaRegistry registry =
        EmbeddedSchemaRegistry.builder(kafka.bootstrapServers())
            .storeTimeout(Duration.ofSeconds(2))
            .start()) {
      RawHttp http = new RawHttp(registry.url());
      int id =
          http.post("/subjects/sf-value/versions", schemaBody("\"string\""))
              .assertOk()
              .json()
              .get("id")
              .asInt();

      // A schema bigger than the producer's max.request.size (1 MiB): Kafka refuses the record.
      String huge =
          "{\"type\":\"record\",\"name\":\"Huge\",\"doc\":\""
              + "x".repeat(1_100_000)
              + "\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}";
      Reply refused =
          http.post("/subjects/sf-huge-value/versions", schemaBody(huge)).assertError(500, 50001);
      assertTrue(refused.message().contains("RecordTooLargeException"), refused.message());
      http.get("/subjects/sf-huge-value/versions")
          .assertError(404, 40401); // nothing half-registered

      kafka.close();
      kafkaClosed = true;
      Reply timedOut =
          assertTimeoutPreemptively(
              Duration.ofSeconds(30),
              () -> http.post("/subjects/sf-value/versions", schemaBody("\"long\"")));
      timedOut.assertError(500, 50002);
      // The state is in memory: reads are still served with Kafka gone.
      assertEquals(
          "\"string\"", http.get("/schemas/ids/" + id).assertOk().json().get("schema").asText());
    } finally {
      if (!kafkaClosed) {
        kafka.close();
      }
    }
  }
}
