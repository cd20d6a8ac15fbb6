package io.mocostream.trainer.stream;

import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.testkit.KafkaCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The trainer attack tests' attacker: writes any record to any topic (no ACLs), holds no trusted
 * key.
 */
final class TrainerAttackKit {
  private TrainerAttackKit() {}

  /** A record in Confluent wire format, its schema registered as the serializer does. */
  static byte[] avro(KafkaCluster cluster, String topic, Object record) {
    try (KafkaAvroSerializer s = new KafkaAvroSerializer()) {
      s.configure(EncoderPublisher.serializerConfig(cluster.registryUrl()), false);
      return s.serialize(topic, record);
    }
  }

  /** Writes {@code key → value} pairs with a plain producer and waits for them. */
  static void send(KafkaCluster cluster, String topic, List<Map.Entry<String, byte[]>> records) {
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                8 << 20),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (Map.Entry<String, byte[]> r : records) {
        p.send(new ProducerRecord<>(topic, r.getKey(), r.getValue()));
      }
      p.flush();
    }
  }

  /** Collects what a trainer publishes. */
  static final class Published implements TrainerListener {
    final List<EncoderVersion> versions = new ArrayList<>();

    @Override
    public synchronized void onPublished(EncoderVersion version) {
      versions.add(version);
    }

    synchronized List<Long> numbers() {
      return versions.stream().map(EncoderVersion::getVersion).toList();
    }
  }
}
