package io.mocostream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ArchitectureSpec;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.schemas.OffsetRange;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code mocostream versions} against a real broker and registry: two versions signed by the
 * trainer's key, then what an attacker who can write the topic (but holds no trusted key) adds: a
 * manifest claiming the trainer's key with a made-up signature, one signed by their own key, and
 * chunks with no manifest. Only the two real versions are listed as versions; the forgeries appear
 * as refused, nothing they claim in the table.
 */
@ExtendWith(KafkaClusterExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VersionsCommandTest {
  static final String MODEL = "listed";
  static final double FORGED_KNN = 0.987654;

  Path keys;
  String topic;
  ModelSigner trainer;
  final List<EncoderVersion> published = new ArrayList<>();

  @BeforeAll
  void publish(KafkaCluster cluster) throws Exception {
    keys = java.nio.file.Files.createTempDirectory("versions-test-keys");
    topic = "versions-test." + System.nanoTime();
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      ModelTopics.ensure(admin, topic);
    }
    trainer = ModelSigning.loadOrCreate(keys);
    EncoderPublisher publisher = new EncoderPublisher(topic, trainer, 1000);
    try (KafkaProducer<String, Object> producer =
        EncoderPublisher.createProducer(
            cluster.bootstrapServers(), cluster.registryUrl(), "versions-test-trainer")) {
      published.add(publisher.publishInOwnTransaction(producer, draft(1, 0.61), payload(2500, 1)));
      published.add(publisher.publishInOwnTransaction(producer, draft(2, 0.72), payload(2500, 2)));
    }
    // The attacker: plain producer, records in the project's own wire format (schemas registered as
    // anyone can).
    List<byte[]> forged = new ArrayList<>();
    EncoderPublisher.Prepared claimsTrainer =
        new EncoderPublisher(topic, ModelSigning.generate(), 1000)
            .prepare(draft(1_000_000_000L, FORGED_KNN), payload(1500, 3));
    claimsTrainer.manifest().setKeyId(trainer.keyId());
    claimsTrainer.manifest().setSignature(ByteBuffer.wrap(new byte[64]));
    EncoderPublisher.Prepared ownKey =
        new EncoderPublisher(topic, ModelSigning.generate(), 1000)
            .prepare(draft(3, FORGED_KNN), payload(1500, 4));
    try (KafkaAvroSerializer s = new KafkaAvroSerializer()) {
      s.configure(EncoderPublisher.serializerConfig(cluster.registryUrl()), false);
      for (EncoderPublisher.Prepared p : List.of(claimsTrainer, ownKey)) {
        for (EncoderChunk c : p.chunks()) {
          forged.add(s.serialize(topic, c));
        }
        forged.add(s.serialize(topic, p.manifest()));
      }
      // Chunks of a "version 4" whose manifest never comes.
      for (EncoderChunk c :
          new EncoderPublisher(topic, ModelSigning.generate(), 1000)
              .prepare(draft(4, FORGED_KNN), payload(1500, 5))
              .chunks()) {
        forged.add(s.serialize(topic, c));
      }
    }
    try (KafkaProducer<String, byte[]> p =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (byte[] v : forged) {
        p.send(new ProducerRecord<>(topic, MODEL, v));
      }
      p.flush();
    }
  }

  private String[] args(KafkaCluster cluster, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "versions",
                "--model",
                MODEL,
                "--topic",
                topic,
                "--trust",
                keys.resolve(ModelSigning.PUBLIC_KEY_FILE).toString(),
                "--bootstrap",
                cluster.bootstrapServers(),
                "--registry",
                cluster.registryUrl(),
                "--timeout-s",
                "60"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void tableListsTheSignedVersionsAndRefusesTheForgeries(KafkaCluster cluster) {
    CliRun r = CliRun.of(args(cluster));
    assertEquals(0, r.rc(), r.toString());
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.get(0).startsWith("VERSION  STEP"), r.toString());
    List<String> rows = lines.stream().filter(l -> l.matches("^\\d+ .*")).toList();
    assertEquals(2, rows.size(), r.toString());
    for (int i = 0; i < 2; i++) {
      EncoderVersion m = published.get(i);
      List<String> cells = List.of(rows.get(i).split("\\s{2,}"));
      assertEquals(String.valueOf(m.getVersion()), cells.get(0), rows.get(i));
      assertEquals(String.valueOf(m.getStep()), cells.get(1), rows.get(i));
      assertEquals(
          String.format(java.util.Locale.ROOT, "%.4f", m.getMetrics().getKnnTop1()),
          cells.get(3),
          rows.get(i));
      assertEquals(String.valueOf(m.getPayloadBytes()), cells.get(6), rows.get(i));
      assertEquals(m.getPayloadSha256().substring(0, 12), cells.get(7), rows.get(i));
      assertEquals(trainer.keyId(), cells.get(8), rows.get(i));
      assertEquals(
          "frames.train[0:0-" + m.getVersion() * 100 + ",1:0-" + m.getVersion() * 90 + "]",
          cells.get(9));
    }
    // The forgeries: listed as refused with the reason, never as a version, their kNN nowhere.
    List<String> refused = lines.stream().filter(l -> l.startsWith("REFUSED ")).toList();
    assertEquals(2, refused.size(), r.toString());
    assertTrue(
        refused.get(0).startsWith("REFUSED BAD_SIGNATURE at " + topic + "-0@"), refused.get(0));
    assertTrue(
        refused.get(1).startsWith("REFUSED UNKNOWN_KEY at " + topic + "-0@"), refused.get(1));
    assertFalse(r.out().contains("0.9877"), r.toString());
    assertTrue(
        lines
            .get(lines.size() - 1)
            .startsWith(
                "model "
                    + MODEL
                    + " on "
                    + topic
                    + ": 2 verified version(s), 2 refused (BAD_SIGNATURE=1, UNKNOWN_KEY=1), "),
        r.toString());
    assertTrue(
        lines.get(lines.size() - 1).endsWith(" bytes of chunks with no manifest (never a version)"),
        r.toString());
  }

  @Test
  void jsonParsesAndHoldsTheSameFacts(KafkaCluster cluster) throws Exception {
    CliRun r = CliRun.of(args(cluster, "--json"));
    assertEquals(0, r.rc(), r.toString());
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertEquals(MODEL, root.get("model").asText());
    JsonNode versions = root.get("versions");
    assertEquals(2, versions.size(), r.out());
    for (int i = 0; i < 2; i++) {
      EncoderVersion m = published.get(i);
      JsonNode v = versions.get(i);
      assertEquals(m.getVersion(), v.get("version").asLong());
      assertEquals(m.getStep(), v.get("step").asLong());
      assertEquals(m.getPayloadSha256(), v.get("sha256").asText());
      assertEquals(m.getMetrics().getKnnTop1(), v.get("knnTop1").asDouble());
      assertEquals(m.getCreatedAt().toString(), v.get("createdAt").asText());
      assertEquals(trainer.keyId(), v.get("keyId").asText());
      assertEquals(2, v.get("trainedOn").size());
      assertEquals(m.getVersion() * 100, v.get("trainedOn").get(0).get("toOffset").asLong());
    }
    JsonNode refused = root.get("refused");
    assertEquals(2, refused.size(), r.out());
    assertEquals("BAD_SIGNATURE", refused.get(0).get("reason").asText());
    assertEquals("UNKNOWN_KEY", refused.get(1).get("reason").asText());
    assertEquals(1, root.get("refusedByReason").get("BAD_SIGNATURE").asLong());
    assertTrue(root.get("pendingChunkBytes").asLong() > 0, r.out());
  }

  @Test
  void anUnreachableBrokerOrRegistryExitsWith2(KafkaCluster cluster) throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // free once closed: nothing listens there
    }
    CliRun broker =
        CliRun.of(
            "versions",
            "--model",
            MODEL,
            "--topic",
            topic,
            "--trust",
            keys.resolve(ModelSigning.PUBLIC_KEY_FILE).toString(),
            "--bootstrap",
            "127.0.0.1:" + closed,
            "--registry",
            cluster.registryUrl(),
            "--timeout-s",
            "3");
    assertEquals(2, broker.rc(), broker.toString());
    assertTrue(
        broker.err().contains("broker 127.0.0.1:" + closed + " did not answer within 3 s"),
        broker.toString());

    CliRun registry =
        CliRun.of(
            "versions",
            "--model",
            MODEL,
            "--topic",
            topic,
            "--trust",
            keys.resolve(ModelSigning.PUBLIC_KEY_FILE).toString(),
            "--bootstrap",
            cluster.bootstrapServers(),
            "--registry",
            "http://127.0.0.1:" + closed,
            "--timeout-s",
            "5");
    assertEquals(2, registry.rc(), registry.toString());
    assertTrue(
        registry.err().contains("schema registry http://127.0.0.1:" + closed + " did not answer"),
        registry.toString());
  }

  @Test
  void aMissingTopicOrAnUnverifiableVersionExitsWith3(KafkaCluster cluster) {
    CliRun r =
        CliRun.of(
            "versions",
            "--model",
            MODEL,
            "--topic",
            "no-such-topic." + System.nanoTime(),
            "--trust",
            keys.resolve(ModelSigning.PUBLIC_KEY_FILE).toString(),
            "--bootstrap",
            cluster.bootstrapServers(),
            "--registry",
            cluster.registryUrl(),
            "--timeout-s",
            "20");
    assertEquals(3, r.rc(), r.toString());
    assertTrue(r.err().contains("does not exist"), r.toString());
    // export of the forged version number: nothing verified by that number, refused input.
    CliRun export =
        CliRun.of(
            "export",
            "--model",
            MODEL,
            "--topic",
            topic,
            "--model-version",
            "1000000000",
            "--trust",
            keys.resolve(ModelSigning.PUBLIC_KEY_FILE).toString(),
            "--out",
            keys.resolve("x.enc").toString(),
            "--bootstrap",
            cluster.bootstrapServers(),
            "--registry",
            cluster.registryUrl());
    assertEquals(3, export.rc(), export.toString());
    assertTrue(export.err().contains("has no verified version 1000000000"), export.toString());
  }

  static EncoderVersion.Builder draft(long version, double knn) {
    return EncoderVersion.newBuilder()
        .setModelName(MODEL)
        .setVersion(version)
        .setParentVersion(version > 1 ? version - 1 : null)
        .setArchitecture(
            ArchitectureSpec.newBuilder()
                .setBackbone("resnet18-narrow")
                .setHead("mlp")
                .setEmbeddingDim(128)
                .setFeatureDim(128)
                .setChannels(1)
                .setInputSize(28)
                .setParams(Map.of())
                .build())
        .setStep(version * 50)
        .setCreatedAt(Instant.ofEpochMilli(1_780_000_000_000L + version * 60_000))
        .setLineage(
            Lineage.newBuilder()
                .setRanges(
                    List.of(
                        new OffsetRange("frames.train", 0, 0L, version * 100),
                        new OffsetRange("frames.train", 1, 0L, version * 90)))
                .setStepLogTopic("trainer.steps")
                .setFirstStep(0)
                .setLastStep(version * 50)
                .build())
        .setMetrics(
            Metrics.newBuilder()
                .setLoss(4.5 - version * 0.1)
                .setKnnTop1(knn)
                .setImagesPerSecond(47.0)
                .build())
        .setConfigFingerprint("ab".repeat(32));
  }

  static byte[] payload(int bytes, long seed) {
    byte[] b = new byte[bytes];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }
}
