package io.mocostream.registry.serde;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import io.mocostream.schemas.ImageFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The serdes as users wire them: class names in plain producer/consumer configs, Kafka constructs
 * and configures them, records go through a real broker.
 */
class KafkaRoundTripTest {
  private static EmbeddedKafka kafka;
  private static EmbeddedSchemaRegistry registry;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.startTemporary();
    registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void framesThroughABrokerWithSerdesConfiguredByKafka() {
    String topic = EmbeddedKafka.uniqueName("frames-rt");
    List<ImageFrame> sent = new ArrayList<>();
    Map<String, Object> producerConfig =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, KafkaAvroSerializer.class.getName(),
            KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url());
    try (KafkaProducer<String, Object> producer = new KafkaProducer<>(producerConfig)) {
      for (int i = 0; i < 200; i++) {
        ImageFrame frame = KafkaAvroSerdeTest.frame(i);
        sent.add(frame);
        producer.send(new ProducerRecord<>(topic, frame.getSourceId(), frame));
      }
      producer.send(new ProducerRecord<>(topic, "cam-0", null)); // a tombstone stays null
      producer.flush();
    }

    Map<String, Object> consumerConfig =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, EmbeddedKafka.uniqueName("rt"),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, KafkaAvroDeserializer.class.getName(),
            KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url(),
            KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, "true");
    List<Object> received = new ArrayList<>();
    try (KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(consumerConfig)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (received.size() < 201 && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, Object> r : consumer.poll(Duration.ofMillis(200))) {
          received.add(r.value());
        }
      }
    }
    List<Object> expected = new ArrayList<>(sent);
    expected.add(null);
    assertEquals(expected, received);
  }
}
