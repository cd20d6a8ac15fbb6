package io.mocostream.serving.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.serving.TestModels;
import io.mocostream.serving.http.ServeCommand;
import io.mocostream.serving.http.ServeOptions;
import io.mocostream.testkit.KafkaCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * {@code serve} as a user runs it (ServeCommand), on a real broker and registry, serving version 1
 * of a tiny model.
 */
final class AttackedService implements AutoCloseable {
  static final String MODEL = "attacked";
  final TestModels models;
  final ServeCommand.Running running;
  final URI base;
  final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  AttackedService(
      KafkaCluster cluster, Path dir, String name, UnaryOperator<ServeOptions> options) {
    models = new TestModels(cluster, name, dir);
    models.publish(MODEL, 1);
    ServeOptions o =
        options.apply(
            ServeOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
                .withModelTopic(models.topic, models.trustFile)
                .withListen("127.0.0.1", 0));
    running = ServeCommand.start(o);
    assertTrue(running.encoder().awaitReady(Duration.ofSeconds(60)), "version 1 not served");
    base = running.service().uri();
  }

  HttpResponse<String> embed(byte[] image, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve("/v1/embed"))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "image/png")
            .POST(HttpRequest.BodyPublishers.ofByteArray(image));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    running.close();
    models.close();
  }
}
