package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.testkit.KafkaCluster;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What the attack tests share: an attacker who can write to the model topic and the registry (no
 * ACLs) but holds no trusted key. Real broker, real registry; the attacker writes with plain Kafka
 * producers and the registry's REST API, as anyone on the network could.
 */
final class AttackKit {
  private static final AtomicInteger IDS = new AtomicInteger();

  private AttackKit() {}

  /** A fresh model topic with the model topic's settings. */
  static String topic(KafkaCluster cluster, String name) {
    String topic = "attack." + name + "." + IDS.incrementAndGet();
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      assertTrue(ModelTopics.ensure(admin, topic));
    }
    return topic;
  }

  /** The trainer's transactional producer (what a legitimate publisher uses). */
  static KafkaProducer<String, Object> trainerProducer(KafkaCluster cluster) {
    return EncoderPublisher.createProducer(
        cluster.bootstrapServers(),
        cluster.registryUrl(),
        "attack-trainer-" + IDS.incrementAndGet());
  }

  /** The attacker's producer: plain, non-transactional, any bytes. */
  static KafkaProducer<String, byte[]> rawProducer(KafkaCluster cluster) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            cluster.bootstrapServers(),
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            8 << 20),
        new StringSerializer(),
        new ByteArraySerializer());
  }

  /** Sends raw values keyed by {@code model} and waits for them to be written. */
  static void sendRaw(KafkaCluster cluster, String topic, String model, List<byte[]> values) {
    try (KafkaProducer<String, byte[]> p = rawProducer(cluster)) {
      for (byte[] v : values) {
        p.send(new ProducerRecord<>(topic, model, v));
      }
      p.flush();
    }
  }

  /**
   * A record in Confluent wire format, as the project's serializer writes it (registering its
   * schema).
   */
  static byte[] serialize(KafkaCluster cluster, String topic, Object record) {
    try (KafkaAvroSerializer s = new KafkaAvroSerializer()) {
      s.configure(EncoderPublisher.serializerConfig(cluster.registryUrl()), false);
      return s.serialize(topic, record);
    }
  }

  /**
   * Registers {@code schema} under {@code subject}, as anyone who reaches the registry can; returns
   * its id.
   */
  static int register(KafkaCluster cluster, String subject, Schema schema) {
    try (SchemaRegistryClient client =
        SchemaRegistryClient.fromConfigs(Map.of("schema.registry.url", cluster.registryUrl()))) {
      return client.register(subject, schema);
    }
  }

  /**
   * {@code wire} with its schema id replaced by {@code id}: the same Avro body, read with another
   * schema.
   */
  static byte[] withSchemaId(byte[] wire, int id) {
    byte[] out = wire.clone();
    ByteBuffer.wrap(out, 1, 4).putInt(id);
    return out;
  }

  /** Magic byte, schema id, then {@code body}. */
  static byte[] wire(int id, byte[] body) {
    return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(id).put(body).array();
  }

  /** Polls until {@code done} or fails after {@code timeout}. */
  static void pollUntil(VersionSubscriber s, BooleanSupplier done, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "condition not met within " + timeout);
      s.poll(Duration.ofMillis(100));
    }
  }

  /** Collects a subscriber's verdicts in order. */
  static final class Recorder implements VersionListener {
    final List<VerifiedVersion> accepted = new ArrayList<>();
    final List<RefusedVersion> refused = new ArrayList<>();

    @Override
    public synchronized void onAccepted(VerifiedVersion v) {
      accepted.add(v);
    }

    @Override
    public synchronized void onRefused(RefusedVersion r) {
      refused.add(r);
    }

    synchronized List<Long> acceptedVersions() {
      return accepted.stream().map(VerifiedVersion::version).toList();
    }

    synchronized boolean hasAccepted(long version) {
      return acceptedVersions().contains(version);
    }

    synchronized long refusedFor(RefusedVersion.Reason reason) {
      return refused.stream().filter(r -> r.reason() == reason).count();
    }

    @Override
    public synchronized String toString() {
      return "accepted " + acceptedVersions() + ", refused " + refused;
    }
  }
}
