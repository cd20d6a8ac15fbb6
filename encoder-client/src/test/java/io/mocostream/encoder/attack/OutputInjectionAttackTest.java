package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.SubscribeCommand;
import io.mocostream.encoder.client.SubscribeOptions;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.EncoderPublisher.Prepared;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: an untrusted {@code keyId} was printed raw; a newline in it forged an "accepted" line in
 * {@code subscribe}'s output (and in logs). Now every string from a record is escaped onto one
 * line.
 */
@ExtendWith(KafkaClusterExtension.class)
class OutputInjectionAttackTest {
  @TempDir Path dir;

  @Test
  void aNewlineInAKeyIdCannotForgeAnAcceptedLine(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "injection");
    ModelSigner trainer = ModelSigning.loadOrCreate(dir.resolve("keys"));
    String forgedLine =
        "version=99 step=1 knn_top1=0.9900 sha256="
            + "0".repeat(64)
            + " bytes=1 key="
            + trainer.keyId();
    Prepared evil =
        new EncoderPublisher(topic, ModelSigning.generate(), 1000)
            .prepare(Drafts.draft("m", 1), Drafts.payload(100, 1));
    evil.manifest().setKeyId("0123\n" + forgedLine + "\r\u2028\u001b[2K");
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      producer.beginTransaction();
      new EncoderPublisher(topic, trainer, 1000).send(producer, evil);
      producer.commitTransaction();
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    SubscribeCommand.run(
        new SubscribeOptions(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            topic,
            "m",
            dir.resolve("keys").resolve(ModelSigning.PUBLIC_KEY_FILE),
            true,
            1,
            Duration.ofSeconds(60)),
        new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    List<String> lines = out.lines().toList();
    assertEquals(1, lines.size(), out);
    assertTrue(lines.get(0).startsWith("refused version=1 reason=UNKNOWN_KEY "), lines.get(0));
    assertTrue(
        lines.get(0).contains("0123\\u000a" + forgedLine + "\\u000d\\u2028\\u001b[2K"),
        lines.get(0));
    assertEquals("a\\u0000c", Untrusted.text("a\u0000c"));
    assertEquals(Untrusted.text("a\u0000c"), Untrusted.text(Untrusted.text("a\u0000c")));
  }
}
