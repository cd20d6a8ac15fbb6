package io.mocostream.encoder.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.live.Embedding;
import io.mocostream.encoder.live.TinyEncoders;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The README's example is this module's {@link SubscribeAndEmbed}, word for word, and it runs. */
@ExtendWith(KafkaClusterExtension.class)
class ReadmeExampleTest {
  private static final Path SOURCE =
      Path.of("src/test/java/io/mocostream/encoder/example/SubscribeAndEmbed.java");
  private static final Path README = Path.of("../README.md");

  /** The lines between the example markers, without the method's indentation. */
  static String snippet() throws Exception {
    List<String> lines = Files.readAllLines(SOURCE, StandardCharsets.UTF_8);
    int from = lines.indexOf("    // README example start");
    int to = lines.indexOf("    // README example end");
    assertTrue(from >= 0 && to > from, "markers in " + SOURCE);
    StringBuilder out = new StringBuilder();
    for (String line : lines.subList(from + 1, to)) {
      out.append(line.length() >= 4 ? line.substring(4) : line.strip()).append('\n');
    }
    return out.toString();
  }

  @Test
  void theReadmeQuotesTheCompiledExample() throws Exception {
    String readme = Files.readString(README, StandardCharsets.UTF_8);
    String snippet = snippet();
    assertTrue(
        readme.contains("```java\n" + snippet + "```\n"),
        "README.md must quote, in a java block:\n" + snippet);
    assertTrue(
        snippet.lines().count() <= 12, "a short example: " + snippet.lines().count() + " lines");
  }

  @Test
  void theExampleSubscribesAndEmbeds(KafkaCluster cluster, @TempDir Path dir) throws Exception {
    String model = "readme-example";
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      ModelTopics.ensure(admin, ModelTopics.DEFAULT_TOPIC);
    }
    ModelSigner trainer = ModelSigning.loadOrCreate(dir.resolve("keys"));
    byte[] weights = TinyEncoders.weights(TinyEncoders.ARCH, 3);
    try (KafkaProducer<String, Object> producer =
        EncoderPublisher.createProducer(
            cluster.bootstrapServers(), cluster.registryUrl(), "readme-example")) {
      new EncoderPublisher(ModelTopics.DEFAULT_TOPIC, trainer)
          .publishInOwnTransaction(producer, TinyEncoders.draft(model, 1, 0.5), weights);
    }
    BufferedImage img = new BufferedImage(24, 20, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 20; y++) {
      for (int x = 0; x < 24; x++) {
        img.getRaster().setSample(x, y, 0, (x * 11 + y * 7) & 0xff);
      }
    }
    Path image = dir.resolve("image.png");
    ImageIO.write(img, "png", image.toFile());
    Embedding e =
        SubscribeAndEmbed.embed(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            model,
            dir.resolve("keys").resolve(ModelSigning.PUBLIC_KEY_FILE),
            dir,
            image);
    assertEquals(1, e.version());
    assertEquals(TinyEncoders.ARCH.featureDim(), e.vector().length);
    assertArrayEquals(
        TinyEncoders.reference(
            weights,
            new io.mocostream.frames.ImageDecoder(io.mocostream.frames.FrameLimits.DEFAULT)
                .decode(
                    io.mocostream.schemas.ContentType.PNG,
                    Files.readAllBytes(image),
                    null,
                    null,
                    "test")),
        e.vector(),
        1e-5f);
  }
}
