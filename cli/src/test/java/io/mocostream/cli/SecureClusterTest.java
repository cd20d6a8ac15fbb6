package io.mocostream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.registry.client.ClientSettings;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code up --secure} for real: a SASL_SSL broker with the standard authorizer and the registry
 * behind basic auth, each command run through the CLI with its principal's generated properties
 * file.
 */
class SecureClusterTest {
  @TempDir static Path tmp;
  static SecureCluster cluster;

  @BeforeAll
  static void up() {
    cluster = SecureCluster.start(tmp.resolve("data"), tmp.resolve("secure"), 0, 0, 0);
  }

  @AfterAll
  static void down() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Runs a command as {@code principal}; returns its exit code, stdout and stderr. */
  static String[] run(String principal, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--bootstrap",
            cluster.kafka.bootstrapServers(),
            "--registry",
            cluster.registry.url(),
            "--client-config",
            cluster.clientConfig(principal).toString()));
    StringWriter err = new StringWriter();
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      rc =
          MocoStream.commandLine()
              .setErr(new PrintWriter(err, true))
              .execute(all.toArray(String[]::new));
    } finally {
      System.setOut(stdout);
    }
    String o = out.toString(StandardCharsets.UTF_8);
    stdout.println(o);
    stdout.println(err);
    return new String[] {String.valueOf(rc), o, err.toString()};
  }

  @Test
  void produceTrainSubscribeServeEmbedEachAsItsOwnPrincipal() throws Exception {
    String keys = tmp.resolve("keys").toString();
    String[] produced =
        run("producer", "produce", "--source", "synthetic:4", "--max", "40", "--seed", "3");
    assertEquals("0", produced[0], produced[2]);

    // Width 16, not 4: oneDNN's convolution gradients are wrong (sometimes NaN) below 16 channels
    // on AVX-512, and
    // three non-finite steps in a row stop the trainer (see ConvolutionGradientTest).
    String[] trained =
        run(
            "trainer",
            "train",
            "--model",
            "sec",
            "--batch",
            "8",
            "--max-steps",
            "3",
            "--publish-every-steps",
            "3",
            "--arch",
            "resnet18-narrow,width=16,channels=1,size=16",
            "--keys-dir",
            keys,
            "-D",
            "moco.queue.size=32",
            "-D",
            "trainer.prepare.threads=2",
            "-D",
            "moco.shuffle.bn.groups=2");
    assertEquals("0", trained[0], trained[2]);
    assertTrue(trained[1].contains("last_version=1"), trained[1]);

    String[] seen =
        run(
            "subscriber",
            "subscribe",
            "--model",
            "sec",
            "--trust",
            keys + "/model-signing.pub",
            "--from-beginning",
            "--max-versions",
            "1",
            "--timeout-s",
            "60");
    assertEquals("0", seen[0], seen[2]);
    assertTrue(seen[1].contains("version=1 step=3"), seen[1]);

    servedAndEmbedded(keys + "/model-signing.pub");
  }

  /**
   * serve as the subscriber (its consumer and registry client log in with --client-config) answers
   * with version 1; embed-stream as the embedder (Streams app, live encoder, admin client) embeds
   * all 40 frames under EOS.
   */
  private static void servedAndEmbedded(String trust) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Thread serve =
        start(
            "subscriber",
            "serve",
            "--model",
            "sec",
            "--trust",
            trust,
            "--port",
            String.valueOf(port));
    Thread embed =
        start("embedder", "embed-stream", "--model", "sec", "--trust", trust, "--in", "frames.raw");
    try {
      URI base = URI.create("http://127.0.0.1:" + port);
      HttpClient http = HttpClient.newHttpClient();
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      int ready = 0;
      while (ready != 200 && System.nanoTime() < deadline && serve.isAlive()) {
        Thread.sleep(250);
        try {
          ready =
              http.send(
                      HttpRequest.newBuilder(base.resolve("/health/ready")).GET().build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode();
        } catch (java.io.IOException notListening) {
          ready = 0;
        }
      }
      assertEquals(200, ready, "serve never became ready as User:subscriber");
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(base.resolve("/v1/embed"))
                  .header("Content-Type", "image/png")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(png()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(r.body().replace(" ", "").contains("\"version\":1"), r.body());

      // The embeddings, read back as the admin (the embedder's output, committed).
      Map<String, Object> c =
          ClientSettings.load(cluster.clientConfig("admin"))
              .consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
      try (var consumer =
          new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> parts =
            consumer.partitionsFor("embeddings").stream()
                .map(i -> new TopicPartition(i.topic(), i.partition()))
                .toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        int n = 0;
        while (n < 40 && System.nanoTime() < deadline && embed.isAlive()) {
          n += consumer.poll(Duration.ofMillis(500)).count();
        }
        assertEquals(40, n, "embeddings written by embed-stream as User:embedder");
      }
    } finally {
      for (Thread t : List.of(serve, embed)) {
        t.interrupt();
        t.join(60_000);
      }
    }
  }

  /**
   * Runs a long-running command as {@code principal} on its own thread (stdout as is); interrupt it
   * to stop it.
   */
  private static Thread start(String principal, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(
        List.of(
            "--bootstrap",
            cluster.kafka.bootstrapServers(),
            "--registry",
            cluster.registry.url(),
            "--client-config",
            cluster.clientConfig(principal).toString()));
    Thread t =
        new Thread(
            () -> MocoStream.commandLine().execute(all.toArray(String[]::new)),
            args[0] + "-as-" + principal);
    t.start();
    return t;
  }

  private static byte[] png() throws Exception {
    BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) {
        img.getRaster().setSample(x, y, 0, (x * 16 + y * 7) & 0xff);
      }
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ImageIO.write(img, "png", b);
    return b.toByteArray();
  }

  @Test
  void producerCannotWriteTheModelTopic() throws Exception {
    ClientSettings producer = ClientSettings.load(cluster.clientConfig("producer"));
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> send(producer, "encoder.versions"));
    assertInstanceOf(TopicAuthorizationException.class, e.getCause());
    assertEquals(
        "principal User:producer lacks WRITE on topic encoder.versions",
        producer.denied(e, "WRITE", "?").replaceAll(" \\(.*", ""));

    // Through the CLI: refused before a record is sent, with the ACL named.
    String[] r =
        run(
            "producer",
            "produce",
            "--source",
            "synthetic:2",
            "--max",
            "1",
            "--topic",
            "encoder.versions");
    assertEquals(String.valueOf(ExitCode.NOT_ALLOWED.code), r[0]);
    assertTrue(
        r[2].contains("principal User:producer lacks DESCRIBE on topic encoder.versions"), r[2]);
  }

  @Test
  void subscriberCannotWriteAnything() throws Exception {
    ClientSettings subscriber = ClientSettings.load(cluster.clientConfig("subscriber"));
    for (String topic :
        List.of(
            "frames.raw",
            "frames.train",
            "frames.dlq",
            "encoder.versions",
            "trainer.state",
            "trainer.steps")) {
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> send(subscriber, topic), topic);
      assertInstanceOf(TopicAuthorizationException.class, e.getCause(), topic);
    }
    // Nor act as the trainer's transactional producer.
    Map<String, Object> tx =
        subscriber.producer(
            Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                "mocostream-trainer-sec",
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                20_000));
    try (var p = new KafkaProducer<>(tx, new ByteArraySerializer(), new ByteArraySerializer())) {
      KafkaException e = assertThrows(KafkaException.class, p::initTransactions);
      assertTrue(
          e instanceof TransactionalIdAuthorizationException
              || e.getCause() instanceof TransactionalIdAuthorizationException,
          e.toString());
    }
    // And the trainer, run as the subscriber, stops with the right it lacks.
    String[] r =
        run(
            "subscriber",
            "train",
            "--model",
            "sub",
            "--max-steps",
            "1",
            "--arch",
            "resnet18-narrow,width=4,channels=1,size=16",
            "--keys-dir",
            tmp.resolve("k2").toString());
    assertEquals(String.valueOf(ExitCode.NOT_ALLOWED.code), r[0]);
    assertTrue(r[2].contains("principal User:subscriber lacks DESCRIBE on topic frames.raw"), r[2]);
  }

  private static void send(ClientSettings who, String topic) throws Exception {
    // Not idempotent: the denial under test is the topic's WRITE, not the cluster's
    // IDEMPOTENT_WRITE.
    Map<String, Object> c =
        who.producer(
            Map.of(
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                false,
                ProducerConfig.ACKS_CONFIG,
                "1",
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                20_000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                20_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                10_000));
    try (var p = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), new byte[] {1}))
          .get();
    }
  }
}
