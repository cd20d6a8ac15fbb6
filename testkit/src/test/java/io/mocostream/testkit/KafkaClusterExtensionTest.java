package io.mocostream.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaClusterExtension.class)
class KafkaClusterExtensionTest {

  private static KafkaCluster first;

  @Test
  void avroRecordsRoundTripThroughTheBrokerAndRegistry(KafkaCluster cluster) throws Exception {
    remember(cluster);
    String topic = "testkit-roundtrip";
    cluster.createTopic(topic, 2);
    Schema schema =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Ping\",\"fields\":[{\"name\":\"n\",\"type\":\"int\"}]}");
    Map<String, Object> serdeConfig = Map.of("schema.registry.url", cluster.registryUrl());
    var serializer = new KafkaAvroSerializer();
    serializer.configure(serdeConfig, false);
    try (var producer =
        new KafkaProducer<String, Object>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new StringSerializer(),
            serializer)) {
      for (int i = 0; i < 10; i++) {
        GenericRecord r = new GenericData.Record(schema);
        r.put("n", i);
        producer.send(new ProducerRecord<>(topic, "k", r)).get();
      }
    }
    var deserializer = new KafkaAvroDeserializer();
    deserializer.configure(serdeConfig, false);
    List<Integer> seen = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<String, Object>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "testkit-roundtrip",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(),
            deserializer)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (seen.size() < 10 && System.nanoTime() < deadline) {
        consumer
            .poll(Duration.ofMillis(200))
            .forEach(rec -> seen.add((Integer) ((GenericRecord) rec.value()).get("n")));
      }
    }
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), seen);

    // The schema landed in the registry under the topic's value subject.
    HttpResponse<String> subjects =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(cluster.registryUrl() + "/subjects")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, subjects.statusCode());
    assertTrue(subjects.body().contains(topic + "-value"), subjects.body());
  }

  @Test
  void everyTestOfTheRunSharesOneCluster(KafkaCluster cluster) {
    remember(cluster);
    assertSame(first, cluster);
  }

  private static synchronized void remember(KafkaCluster cluster) {
    if (first == null) {
      first = cluster;
    }
  }
}
