package io.mocostream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.registry.client.ClientSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code up --secure} for real: a SASL_SSL broker with the standard authorizer and the registry behind basic auth,
 * each command run through the CLI with its principal's generated properties file.
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
    all.addAll(List.of("--bootstrap", cluster.kafka.bootstrapServers(), "--registry", cluster.registry.url(),
        "--client-config", cluster.clientConfig(principal).toString()));
    StringWriter err = new StringWriter();
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int rc;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      rc = MocoStream.commandLine()
          .setErr(new PrintWriter(err, true)).execute(all.toArray(String[]::new));
    } finally {
      System.setOut(stdout);
    }
    String o = out.toString(StandardCharsets.UTF_8);
    stdout.println(o);
    stdout.println(err);
    return new String[] {String.valueOf(rc), o, err.toString()};
  }

  @Test
  void produceTrainSubscribeEachAsItsOwnPrincipal() {
    String keys = tmp.resolve("keys").toString();
    String[] produced = run("producer", "produce", "--source", "synthetic:4", "--max", "40", "--seed", "3");
    assertEquals("0", produced[0], produced[2]);

    String[] trained = run("trainer", "train", "--model", "sec", "--batch", "8", "--max-steps", "3",
        "--publish-every-steps", "3", "--arch", "resnet18-narrow,width=16,channels=1,size=16", "--keys-dir", keys,
        "-D", "moco.queue.size=32", "-D", "trainer.prepare.threads=2", "-D", "moco.shuffle.bn.groups=2");
    assertEquals("0", trained[0], trained[2]);
    assertTrue(trained[1].contains("last_version=1"), trained[1]);

    String[] seen = run("subscriber", "subscribe", "--model", "sec", "--trust", keys + "/model-signing.pub", "--from-beginning",
        "--max-versions", "1", "--timeout-s", "60");
    assertEquals("0", seen[0], seen[2]);
    assertTrue(seen[1].contains("version=1 step=3"), seen[1]);
  }

  @Test
  void producerCannotWriteTheModelTopic() throws Exception {
    ClientSettings producer = ClientSettings.load(cluster.clientConfig("producer"));
    ExecutionException e = assertThrows(ExecutionException.class, () -> send(producer, "encoder.versions"));
    assertInstanceOf(TopicAuthorizationException.class, e.getCause());
    assertEquals("principal User:producer lacks WRITE on topic encoder.versions",
        producer.denied(e, "WRITE", "?").replaceAll(" \\(.*", ""));

    // Through the CLI: refused before a record is sent, with the ACL named.
    String[] r = run("producer", "produce", "--source", "synthetic:2", "--max", "1", "--topic", "encoder.versions");
    assertEquals(String.valueOf(ExitCode.NOT_ALLOWED.code), r[0]);
    assertTrue(r[2].contains("principal User:producer lacks DESCRIBE on topic encoder.versions"), r[2]);
  }

  @Test
  void subscriberCannotWriteAnything() throws Exception {
    ClientSettings subscriber = ClientSettings.load(cluster.clientConfig("subscriber"));
    for (String topic : List.of("frames.raw", "frames.train", "frames.dlq", "encoder.versions", "trainer.state",
        "trainer.steps")) {
      ExecutionException e = assertThrows(ExecutionException.class, () -> send(subscriber, topic), topic);
      assertInstanceOf(TopicAuthorizationException.class, e.getCause(), topic);
    }
    // Nor act as the trainer's transactional producer.
    Map<String, Object> tx = subscriber.producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "mocostream-trainer-sec",
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000));
    try (var p = new KafkaProducer<>(tx, new ByteArraySerializer(), new ByteArraySerializer())) {
      KafkaException e = assertThrows(KafkaException.class, p::initTransactions);
      assertTrue(e instanceof TransactionalIdAuthorizationException
          || e.getCause() instanceof TransactionalIdAuthorizationException, e.toString());
    }
    // And the trainer, run as the subscriber, stops with the right it lacks.
    String[] r = run("subscriber", "train", "--model", "sub", "--max-steps", "1",
        "--arch", "resnet18-narrow,width=4,channels=1,size=16", "--keys-dir", tmp.resolve("k2").toString());
    assertEquals(String.valueOf(ExitCode.NOT_ALLOWED.code), r[0]);
    assertTrue(r[2].contains("principal User:subscriber lacks DESCRIBE on topic frames.raw"), r[2]);
  }

  private static void send(ClientSettings who, String topic) throws Exception {
    // Not idempotent: the denial under test is the topic's WRITE, not the cluster's IDEMPOTENT_WRITE.
    Map<String, Object> c = who.producer(Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
        ProducerConfig.ACKS_CONFIG, "1", ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    try (var p = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), new byte[] {1})).get();
    }
  }
}
