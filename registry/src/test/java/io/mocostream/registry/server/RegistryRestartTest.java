package io.mocostream.registry.server;

import static io.mocostream.registry.RawHttp.schemaBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.RawHttp;
import io.mocostream.registry.client.SchemaMetadata;
import io.mocostream.registry.client.SchemaRegistryClient;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The registry keeps nothing but the topic: a new instance on the same broker serves the same
 * state.
 */
class RegistryRestartTest {
  private static EmbeddedKafka kafka;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.startTemporary();
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  private static Schema version(int fields) {
    SchemaBuilder.FieldAssembler<Schema> f =
        SchemaBuilder.record("Evolving").namespace("test.restart").fields().requiredString("key");
    for (int i = 1; i < fields; i++) {
      f = f.name("f" + i).type().intType().intDefault(i);
    }
    return f.endRecord();
  }

  private static SchemaRegistryClient client(EmbeddedSchemaRegistry registry) {
    return SchemaRegistryClient.fromConfigs(Map.of("schema.registry.url", registry.url()));
  }

  @Test
  void aNewServerOnTheSameBrokerServesTheSameIdsVersionsConfigAndDeletes() {
    int a1;
    int a2;
    int b1;
    int deletedId;
    try (EmbeddedSchemaRegistry first =
            EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, "_schemas_rs");
        SchemaRegistryClient client = client(first)) {
      a1 = client.register("rs-a-value", version(1));
      a2 = client.register("rs-a-value", version(2));
      b1 = client.register("rs-b-value", version(2));
      deletedId = client.register("rs-gone-value", version(3));
      client.deleteSubject("rs-gone-value");
      client.setCompatibility("rs-a-value", "FULL");
      client.setCompatibility(null, "FORWARD");
      assertEquals(a2, b1, "same schema under another subject, same id");
    }

    try (EmbeddedSchemaRegistry second =
            EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, "_schemas_rs");
        SchemaRegistryClient client = client(second)) {
      RawHttp http = new RawHttp(second.url());
      assertEquals(
          new SchemaMetadata(a1, 1, "rs-a-value", version(1).toString()),
          client.getVersion("rs-a-value", 1));
      assertEquals(
          new SchemaMetadata(a2, 2, "rs-a-value", version(2).toString()),
          client.getLatest("rs-a-value"));
      assertEquals(
          new SchemaMetadata(b1, 1, "rs-b-value", version(2).toString()),
          client.getLatest("rs-b-value"));
      assertEquals(
          List.of("rs-a-value", "rs-b-value"),
          client.subjects(),
          "the soft-deleted subject stays deleted");
      assertEquals(
          List.of(1),
          RawHttp.JSON.convertValue(
              http.get("/subjects/rs-gone-value/versions?deleted=true").assertOk().json(),
              List.class));
      assertEquals(version(3), client.getById(deletedId));
      assertEquals("FULL", client.getCompatibility("rs-a-value"));
      assertEquals("FORWARD", client.getCompatibility(null));

      int a3 = client.register("rs-a-value", version(3));
      assertEquals(deletedId, a3, "ids of soft-deleted schemas are reused, as in Confluent");
      int fresh = client.register("rs-c-value", version(4));
      assertEquals(
          Math.max(Math.max(a1, a2), deletedId) + 1,
          fresh,
          "ids continue from the max id in the topic");
      assertEquals(List.of(1, 2, 3), client.versions("rs-a-value"));
    }
  }

  @Test
  void twoServersOnOneTopicSeeEachOthersWrites() {
    try (EmbeddedSchemaRegistry one =
            EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, "_schemas_two");
        EmbeddedSchemaRegistry two =
            EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, "_schemas_two");
        SchemaRegistryClient c1 = client(one);
        SchemaRegistryClient c2 = client(two)) {
      int id = c1.register("two-value", version(1));
      // Each write first catches up with the whole topic, so the second server numbers after the
      // first.
      int id2 = c2.register("two-value", version(2));
      assertEquals(id + 1, id2);
      assertEquals(List.of(1, 2), c2.versions("two-value"));
    }
  }

  @Test
  void unreadableRecordsInTheTopicAreSkippedNotFatal() throws Exception {
    String topic = "_schemas_junk";
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 1, (short) 1)
                      .configs(
                          Map.of(
                              TopicConfig.CLEANUP_POLICY_CONFIG,
                              TopicConfig.CLEANUP_POLICY_COMPACT))))
          .all()
          .get();
    }
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, "not json".getBytes(), "{}".getBytes())).get();
      producer
          .send(
              new ProducerRecord<>(
                  topic,
                  "{\"keytype\":\"SCHEMA\",\"subject\":\"j\",\"version\":1,\"magic\":1}".getBytes(),
                  "{\"subject\":\"j\",\"version\":1,\"id\":7,\"schema\":\"\\\"string\\\"\",\"deleted\":false}"
                      .getBytes()))
          .get();
      producer
          .send(
              new ProducerRecord<>(
                  topic,
                  "{\"keytype\":\"MODE\",\"subject\":null,\"magic\":0}".getBytes(),
                  "{\"mode\":\"READWRITE\"}".getBytes()))
          .get();
    }
    try (EmbeddedSchemaRegistry registry =
        EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, topic)) {
      RawHttp http = new RawHttp(registry.url());
      assertEquals(
          "\"string\"",
          http.get("/schemas/ids/7").assertOk().json().get("schema").asText(),
          "records written in Confluent's format are read");
      assertEquals(
          8,
          http.post("/subjects/j2/versions", schemaBody("\"long\""))
              .assertOk()
              .json()
              .get("id")
              .asInt());
    }
  }

  @Test
  void aTopicThatWouldLoseSchemasIsRefused() throws Exception {
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("_schemas_deleting", 1, (short) 1),
                  new NewTopic("_schemas_split", 3, (short) 1)
                      .configs(
                          Map.of(
                              TopicConfig.CLEANUP_POLICY_CONFIG,
                              TopicConfig.CLEANUP_POLICY_COMPACT))))
          .all()
          .get(); // _schemas_deleting: the broker default, delete
    }
    IllegalStateException deleting =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () -> EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, "_schemas_deleting"));
    assertTrue(
        deleting.getMessage().contains("_schemas_deleting")
            && deleting.getMessage().contains("compact"),
        deleting.getMessage());
    IllegalStateException split =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () -> EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0, "_schemas_split"));
    assertTrue(split.getMessage().contains("3 partitions"), split.getMessage());
  }
}
