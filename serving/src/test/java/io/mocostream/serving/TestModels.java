package io.mocostream.serving;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.frames.DecodedImage;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * A model topic of the test cluster with a signing key, a publisher of real (tiny) encoder
 * versions, and the trusted public key written to a file as a serving process would read it.
 */
public final class TestModels implements AutoCloseable {
  /** A ResNet-18 a few thousand parameters big: grey 16×16 inputs, 32-d features. */
  public static final Architecture ARCH =
      Architecture.parse("resnet18-narrow,width=4,channels=1,size=16");

  private static final AtomicInteger IDS = new AtomicInteger();

  public final String topic;
  public final ModelSigner signer = ModelSigning.generate();
  public final Path trustFile;
  private final EncoderPublisher publisher;
  private final KafkaProducer<String, Object> producer;
  private final KafkaCluster cluster;

  public TestModels(KafkaCluster cluster, String name, Path dir) {
    this.cluster = cluster;
    this.topic =
        "serving." + name + "." + IDS.incrementAndGet() + "." + System.nanoTime() % 100_000;
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      assertTrue(ModelTopics.ensure(admin, topic));
    }
    this.trustFile = dir.resolve(name + ".pub");
    signer.exportPublicKey(trustFile);
    this.publisher = new EncoderPublisher(topic, signer);
    this.producer =
        EncoderPublisher.createProducer(
            cluster.bootstrapServers(), cluster.registryUrl(), "serving-test-" + topic);
  }

  /** Weights of version {@code version}: seeded by it, so every version differs. */
  public static byte[] weights(long version) {
    return SyntheticVersions.weights(ARCH, 1000 + version);
  }

  /** Publishes {@code version} of {@code model} with kNN top-1 {@code 0.5 + version/100}. */
  public EncoderVersion publish(String model, long version) {
    return publishSignedBy(publisher, model, version);
  }

  /** Publishes {@code version} signed by a key nobody trusts. */
  public EncoderVersion publishUntrusted(String model, long version) {
    return publishSignedBy(new EncoderPublisher(topic, ModelSigning.generate()), model, version);
  }

  private EncoderVersion publishSignedBy(EncoderPublisher p, String model, long version) {
    return p.publishInOwnTransaction(
        producer,
        SyntheticVersions.draft(model, version, ARCH, 0.5 + version / 100.0),
        weights(version));
  }

  public KafkaCluster cluster() {
    return cluster;
  }

  /**
   * The vector the service must return for {@code image} under {@code version}, computed here
   * independently: centre crop/resize/normalise as the trainer does, the backbone's pooled
   * features, L2-normalised.
   */
  public static float[] reference(long version, DecodedImage image) {
    float[] x = new float[ARCH.imageFloats()]; // 1×C×S×S
    new Augmenter(AugmentConfig.mocoV2(ARCH.inputSize(), ARCH.channels())).center(image, x, 0);
    try (Encoder encoder = Encoder.load(ARCH, weights(version))) {
      float[] f = encoder.features(x, 1); // 1×F
      double sum = 0;
      for (float v : f) {
        sum += (double) v * v;
      }
      float inv = (float) (1 / Math.sqrt(sum));
      for (int i = 0; i < f.length; i++) {
        f[i] *= inv;
      }
      return f;
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
