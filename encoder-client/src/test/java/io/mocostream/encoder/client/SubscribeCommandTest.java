package io.mocostream.encoder.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(KafkaClusterExtension.class)
class SubscribeCommandTest {
  @TempDir Path dir;

  @Test
  void printsOneLinePerAcceptedOrRefusedVersion(KafkaCluster cluster) {
    String topic = "encoder-client.subscribe-command";
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      ModelTopics.ensure(admin, topic);
    }
    ModelSigner trainer = ModelSigning.loadOrCreate(dir.resolve("trainer-keys"));
    EncoderPublisher trusted = new EncoderPublisher(topic, trainer, 1000);
    EncoderPublisher stranger = new EncoderPublisher(topic, ModelSigning.generate(), 1000);
    EncoderVersion v1;
    EncoderVersion v3;
    try (KafkaProducer<String, Object> producer =
        EncoderPublisher.createProducer(
            cluster.bootstrapServers(), cluster.registryUrl(), "subscribe-command-test")) {
      v1 =
          trusted.publishInOwnTransaction(
              producer, Drafts.draft("cli", 1), Drafts.payload(2048, 1));
      stranger.publishInOwnTransaction(producer, Drafts.draft("cli", 2), Drafts.payload(10, 2));
      v3 =
          trusted.publishInOwnTransaction(
              producer,
              Drafts.draft("cli", 3)
                  .setMetrics(
                      io.mocostream.schemas.Metrics.newBuilder()
                          .setLoss(1.0)
                          .setKnnTop1(null)
                          .setImagesPerSecond(null)
                          .build()),
              Drafts.payload(999, 3));
      trusted.publishInOwnTransaction(producer, Drafts.draft("cli", 4), Drafts.payload(5, 4));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    // Trust the trainer's public key file (a directory is refused: see TrustPathAttackTest); stop
    // after three versions.
    SubscribeCommand.run(
        new SubscribeOptions(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            topic,
            "cli",
            dir.resolve("trainer-keys").resolve(ModelSigning.PUBLIC_KEY_FILE),
            true,
            3,
            Duration.ofSeconds(60)),
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(3, lines.size(), lines.toString());
    assertEquals(
        "version=1 step=100 knn_top1=0.5100 sha256="
            + v1.getPayloadSha256()
            + " bytes=2048 key="
            + trainer.keyId(),
        lines.get(0));
    assertTrue(lines.get(1).startsWith("refused version=2 reason=UNKNOWN_KEY "), lines.get(1));
    assertEquals(
        "version=3 step=300 knn_top1=- sha256="
            + v3.getPayloadSha256()
            + " bytes=999 key="
            + trainer.keyId(),
        lines.get(2));
  }

  @Test
  void aMissingTrustPathIsAnErrorNamingIt() {
    Path missing = dir.resolve("no-such-key.pub");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SubscribeCommand.run(
                    new SubscribeOptions(
                        "127.0.0.1:1",
                        "http://127.0.0.1:1",
                        null,
                        "m",
                        missing,
                        false,
                        1,
                        Duration.ofSeconds(1)),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
  }
}
