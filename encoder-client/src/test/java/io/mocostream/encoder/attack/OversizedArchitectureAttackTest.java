package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.VersionGate;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.encoder.live.TinyEncoders;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.vision.model.Architecture;
import java.time.Duration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: a signed manifest declaring a huge architecture (a ResNet-50 of width 1024: ≈ 25 GB of
 * parameters) with a small payload. Building it to load the payload ran out of memory, and the
 * Error ended the subscription thread. Now the architecture is checked against the payload before
 * anything is built ({@code UNLOADABLE}), any Throwable while loading is that version's refusal,
 * and the next good version serves.
 */
@ExtendWith(KafkaClusterExtension.class)
class OversizedArchitectureAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void aSignedButOversizedArchitectureIsRefusedAndTheEncoderKeepsFollowing(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "oversized-arch");
    byte[] weights = TinyEncoders.weights(TinyEncoders.ARCH, 1);
    Architecture huge =
        new Architecture(Architecture.RESNET50, 1024, Architecture.HEAD_MLP, 128, 3, 224);
    try (LiveEncoder encoder =
            LiveEncoder.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
                .topic(topic)
                .trustedKeys(trainer.trustedKeys())
                .build()
                .start();
        KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      EncoderPublisher publisher = new EncoderPublisher(topic, trainer);
      publisher.publishInOwnTransaction(
          producer, TinyEncoders.draft("m", 1, 0.5).setArchitecture(huge.toAvro()), weights);
      publisher.publishInOwnTransaction(producer, TinyEncoders.draft("m", 2, 0.5), weights);
      assertTrue(encoder.awaitReady(Duration.ofSeconds(60)), encoder.stats().toString());
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (encoder.current().orElseThrow().version() != 2 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertEquals(2, encoder.current().orElseThrow().version());
      LiveEncoder.Stats stats = encoder.stats();
      assertEquals(1, stats.refused(Reason.UNLOADABLE), stats.toString());
      assertTrue(encoder.lastError().isEmpty(), encoder.lastError().toString());
    }
  }

  @Test
  void theParameterBoundNeverExceedsARealParameterSet() {
    for (String arch :
        new String[] {
          "resnet18-narrow,width=1,channels=1,size=8",
          "resnet18-narrow,width=4",
          "resnet18-narrow,width=8,channels=1,size=28",
          "resnet18-narrow",
          "resnet50,width=4,size=32",
          "resnet50,width=8,size=32"
        }) {
      Architecture a = Architecture.parse(arch);
      long real = TinyEncoders.weights(a, 1).length;
      long bound = VersionGate.minimumParameterBytes(a);
      assertTrue(bound <= real && bound > real / 3, arch + ": bound " + bound + ", real " + real);
    }
  }
}
