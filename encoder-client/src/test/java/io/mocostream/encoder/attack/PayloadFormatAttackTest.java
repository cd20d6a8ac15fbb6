package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: {@code payloadFormat} was never checked, so a payload in a format no loader here speaks
 * (say, a pickle from a publisher holding the key by mistake) went on to loaders. Now only {@code
 * djl-params} is accepted.
 */
@ExtendWith(KafkaClusterExtension.class)
class PayloadFormatAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void aSignedVersionInAnotherPayloadFormatIsRefused(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "payload-format");
    EncoderPublisher publisher = new EncoderPublisher(topic, trainer, 1000);
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      publisher.publishInOwnTransaction(
          producer, Drafts.draft("m", 1).setPayloadFormat("torch-pickle"), Drafts.payload(2500, 1));
      publisher.publishInOwnTransaction(producer, Drafts.draft("m", 2), Drafts.payload(2500, 2));
    }
    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .startPosition(StartPosition.EARLIEST)
            .listener(rec)
            .build()) {
      AttackKit.pollUntil(sub, () -> rec.hasAccepted(2), Duration.ofSeconds(60));
      assertEquals(List.of(2L), rec.acceptedVersions());
      RefusedVersion r = rec.refused.get(0);
      assertEquals(Reason.MALFORMED, r.reason());
      assertTrue(r.message().contains("payload format 'torch-pickle'"), r.message());
    }
  }
}
