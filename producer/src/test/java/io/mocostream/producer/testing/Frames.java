package io.mocostream.producer.testing;

import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads ImageFrames back with a plain consumer and the project's Avro deserializer. */
public final class Frames {
  private Frames() {}

  /**
   * Reads until {@code n} records arrived (then a short extra poll shows there are no more) or the
   * timeout.
   */
  public static List<ConsumerRecord<String, ImageFrame>> read(
      KafkaCluster cluster, String topic, int n, Duration timeout) {
    Map<String, Object> conf =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            cluster.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            "test-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class.getName(),
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            "io.mocostream.registry.serde.KafkaAvroDeserializer",
            "schema.registry.url",
            cluster.registryUrl(),
            "specific.avro.reader",
            true);
    List<ConsumerRecord<String, ImageFrame>> out = new ArrayList<>();
    try (KafkaConsumer<String, ImageFrame> consumer = new KafkaConsumer<>(conf)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < n && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      consumer.poll(Duration.ofMillis(500)).forEach(out::add);
    }
    return out;
  }
}
