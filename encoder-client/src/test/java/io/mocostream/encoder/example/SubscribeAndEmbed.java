package io.mocostream.encoder.example;

import io.mocostream.encoder.client.ModelSource;
import io.mocostream.encoder.live.Embedding;
import io.mocostream.encoder.live.LiveEncoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The README's "subscribe and embed" example, compiled and run by {@link ReadmeExampleTest}. */
final class SubscribeAndEmbed {
  private SubscribeAndEmbed() {}

  static Embedding embed(
      String bootstrap, String registryUrl, String model, Path trust, Path stateDir, Path image)
      throws IOException {
    // spotless:off (the README quotes these lines word for word, in its own shorter layout)
    // README example start
    ModelSource source = ModelSource.of(bootstrap, registryUrl, model).withTrust(trust);
    try (LiveEncoder encoder = LiveEncoder.builder(source)
        .highWaterMarks(stateDir.resolve("high-water.properties")) // never go back to an older version
        .build().start()) {
      if (!encoder.awaitReady(Duration.ofMinutes(1))) {
        throw new IllegalStateException("no verified version of " + model + " yet: " + encoder.stats());
      }
      Embedding e = encoder.embed(Files.readAllBytes(image)); // JPEG, PNG, GIF or BMP
      System.out.println(model + " version " + e.version() + ": " + e.vector().length + "-d, L2-normalised");
      return e;
    }
    // README example end
    // spotless:on
  }
}
