package io.mocostream.broker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool$;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (broker and controller roles in one process) inside this
 * JVM, on loopback. It is Kafka's own server class, not a mock: transactions, compaction and
 * read_committed behave as in production. Internal APIs ({@code KafkaRaftServer}, {@code
 * StorageTool}) are why the Kafka version is pinned in the parent pom.
 *
 * <p>Storage is formatted only when {@code meta.properties} is missing: re-formatting a used
 * directory would give it a new cluster id and break restarts.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final int NODE_ID = 1;

  private final Path dataDir;
  private final boolean deleteOnClose;
  private final int port;
  private final KafkaRaftServer server;

  /** The mutual-TLS listener of a secured broker (broker-internal traffic, setup), or 0. */
  private final int internalPort;

  private EmbeddedKafka(
      Path dataDir, boolean deleteOnClose, int port, KafkaRaftServer server, int internalPort) {
    this.dataDir = dataDir;
    this.deleteOnClose = deleteOnClose;
    this.port = port;
    this.server = server;
    this.internalPort = internalPort;
  }

  /** A throw-away broker on free ports, its data deleted on close. */
  public static EmbeddedKafka startTemporary() {
    try {
      return start(Files.createTempDirectory("mocostream-kafka-"), 0, 0, true);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create a temporary directory for the embedded broker", e);
    }
  }

  /**
   * Starts a broker keeping its log in {@code dataDir} (created if needed; reused with its data if
   * already formatted). A port of 0 picks a free one.
   */
  public static EmbeddedKafka start(Path dataDir, int port, int controllerPort) {
    return start(dataDir, port, controllerPort, false);
  }

  private static EmbeddedKafka start(
      Path dataDir, int port, int controllerPort, boolean deleteOnClose) {
    return start(dataDir, port, controllerPort, deleteOnClose, null);
  }

  /**
   * A secured broker: clients connect with SASL_SSL (SCRAM-SHA-512) on {@code port}; the controller
   * listener and an internal listener (inter-broker traffic, and the setup that creates the first
   * users) accept only mutual TLS with a certificate of the broker's CA; Kafka's {@code
   * StandardAuthorizer} allows nothing without an ACL, except to the super users (the broker's
   * certificate and {@code User:admin}). No SCRAM user exists at first: create them over {@link
   * #internalBootstrapServers()} with {@link BrokerTls#internalClientConfig}.
   */
  public static EmbeddedKafka startSecured(
      Path dataDir, int port, int controllerPort, BrokerTls tls) {
    return start(dataDir, port, controllerPort, false, tls);
  }

  private static EmbeddedKafka start(
      Path dataDir, int port, int controllerPort, boolean deleteOnClose, BrokerTls tls) {
    try {
      Files.createDirectories(dataDir);
      int brokerPort = port == 0 ? freePort() : port;
      int quorumPort = controllerPort == 0 ? freePort() : controllerPort;
      int internal = tls == null ? 0 : freePort();
      Properties props = serverProperties(dataDir.resolve("log"), brokerPort, quorumPort);
      if (tls != null) {
        secure(props, brokerPort, quorumPort, internal, tls);
      }
      formatIfNeeded(dataDir, props);
      KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
      long t0 = System.nanoTime();
      server.startup();
      log.info(
          "embedded Kafka broker on 127.0.0.1:{}{} (data {}) started in {} ms",
          brokerPort,
          tls == null ? "" : " (SASL_SSL)",
          dataDir,
          (System.nanoTime() - t0) / 1_000_000);
      return new EmbeddedKafka(dataDir, deleteOnClose, brokerPort, server, internal);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded broker in " + dataDir, e);
    }
  }

  static Properties serverProperties(Path logDir, int port, int controllerPort) {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", String.valueOf(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
    p.put(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    // One node: every internal topic at replication 1.
    p.put("offsets.topic.replication.factor", "1");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    // 50 partitions (the default) make the first consumer group and transaction slow to appear.
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.num.partitions", "5");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    p.put("default.replication.factor", "1");
    p.put("min.insync.replicas", "1");
    // The cleaner's dedupe buffer defaults to 128 MiB of heap; the compacted topics here are small.
    p.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
    // Encoder chunks are ~1 MB; leave room for batches of them.
    p.put("message.max.bytes", String.valueOf(16 * 1024 * 1024));
    p.put("auto.create.topics.enable", "true");
    return p;
  }

  /**
   * SCRAM-SHA-512 over TLS for clients, mutual TLS inside, the standard authorizer; see {@link
   * #startSecured}.
   */
  static void secure(Properties p, int port, int controllerPort, int internalPort, BrokerTls tls) {
    p.put(
        "listeners",
        "SASL_SSL://127.0.0.1:"
            + port
            + ",INTERNAL://127.0.0.1:"
            + internalPort
            + ",CONTROLLER://127.0.0.1:"
            + controllerPort);
    p.put(
        "advertised.listeners",
        "SASL_SSL://127.0.0.1:" + port + ",INTERNAL://127.0.0.1:" + internalPort);
    p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL");
    p.put("inter.broker.listener.name", "INTERNAL");
    p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
    p.put(
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    p.put("ssl.keystore.type", "PKCS12");
    p.put("ssl.keystore.location", tls.keystore().toString());
    p.put("ssl.keystore.password", tls.password());
    p.put("ssl.key.password", tls.password());
    p.put("ssl.truststore.type", "PKCS12");
    p.put("ssl.truststore.location", tls.truststore().toString());
    p.put("ssl.truststore.password", tls.password());
    // SCRAM authenticates clients on the public listener; inside, only holders of a CA-signed key
    // get in.
    p.put("listener.name.internal.ssl.client.auth", "required");
    p.put("listener.name.controller.ssl.client.auth", "required");
    p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    p.put("allow.everyone.if.no.acl.found", "false");
    p.put("super.users", tls.brokerPrincipal() + ";User:admin");
    p.put("auto.create.topics.enable", "false");
  }

  private static void formatIfNeeded(Path dataDir, Properties props) throws IOException {
    Path logDir = Path.of(props.getProperty("log.dirs"));
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return;
    }
    Path config = dataDir.resolve("server.properties");
    try (var out = Files.newOutputStream(config)) {
      props.store(out, "embedded KRaft broker, written for storage formatting");
    }
    Secrets.ownerOnly(config); // a secured broker's holds the store passwords
    String clusterId = org.apache.kafka.common.Uuid.randomUuid().toString();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc;
    try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      rc =
          StorageTool$.MODULE$.execute(
              new String[] {"format", "--cluster-id", clusterId, "--config", config.toString()},
              ps);
    }
    if (rc != 0) {
      throw new IOException(
          "formatting " + logDir + " failed (" + rc + "): " + buf.toString(StandardCharsets.UTF_8));
    }
    log.debug("formatted {} as cluster {}", logDir, clusterId);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** {@code 127.0.0.1:port}, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The mutual-TLS listener of a secured broker, {@code 127.0.0.1:port}; null for a plain one. */
  public String internalBootstrapServers() {
    return internalPort == 0 ? null : "127.0.0.1:" + internalPort;
  }

  public Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    if (deleteOnClose) {
      deleteRecursively(dataDir);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", dir, e.toString());
    }
  }

  /** A unique name for a throw-away resource (topic, group) in tests and benches. */
  public static String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
