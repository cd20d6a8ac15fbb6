package io.mocostream.cli;

import io.mocostream.broker.BrokerTls;
import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.broker.Secrets;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import io.mocostream.serving.streams.EmbedOptions;
import io.mocostream.trainer.stream.StreamTrainer;
import io.mocostream.trainer.stream.TrainerConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The embedded broker and registry, secured ({@code mocostream up --secure DIR}): a SASL_SSL
 * (SCRAM-SHA-512) listener with Kafka's standard authorizer, one SCRAM user per pipeline role with
 * least-privilege ACLs, the pipeline's topics created in advance (no role may create topics), and
 * in DIR a client properties file per principal plus the trust store. The registry stays on
 * loopback HTTP but asks every request for basic auth; the credential is in each properties file.
 *
 * <p>Principals and rights (DESCRIBE comes with READ and WRITE):
 *
 * <ul>
 *   <li>producer: WRITE, DESCRIBE_CONFIGS frames.raw; IDEMPOTENT_WRITE on the cluster
 *   <li>ingest: READ frames.raw; WRITE frames.train, frames.dlq; group, transactional ids and
 *       internal topics prefixed {@value #INGEST_PREFIX}
 *   <li>trainer: READ frames.raw, frames.train; READ and WRITE encoder.versions, trainer.state,
 *       trainer.steps; WRITE frames.dlq; group and transactional id prefixed {@value
 *       #TRAINER_PREFIX}
 *   <li>subscriber ({@code subscribe}, {@code serve}): READ encoder.versions; groups prefixed
 *       {@value #SUBSCRIBER_PREFIX}
 *   <li>embedder ({@code embed-stream}, a Kafka Streams app): READ frames.raw, frames.train and
 *       encoder.versions; WRITE embeddings, embeddings.dlq; group, transactional ids and internal
 *       topics prefixed {@value #EMBED_PREFIX}
 *   <li>admin: super user (topics, ACLs, users)
 * </ul>
 *
 * SCRAM passwords and the store password are made once and kept in DIR/{@value #CREDENTIALS_FILE}
 * (owner-only), so a restart keeps every client's file valid.
 */
final class SecureCluster implements AutoCloseable {
  static final String CREDENTIALS_FILE = "credentials.properties";
  static final List<String> PRINCIPALS =
      List.of("admin", "producer", "ingest", "trainer", "subscriber", "embedder");
  static final String INGEST_PREFIX = "mocostream-ingest";
  static final String TRAINER_PREFIX = "mocostream-trainer-";
  static final String SUBSCRIBER_PREFIX = "mocostream-subscriber";
  static final String EMBED_PREFIX = EmbedOptions.APPLICATION_ID_PREFIX;
  static final String REGISTRY_USER = "registry";
  static final String FRAMES = "frames.raw";
  static final String TRAIN = "frames.train";
  static final String DLQ = "frames.dlq";
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  final EmbeddedKafka kafka;
  final EmbeddedSchemaRegistry registry;
  final Path dir;

  private SecureCluster(EmbeddedKafka kafka, EmbeddedSchemaRegistry registry, Path dir) {
    this.kafka = kafka;
    this.registry = registry;
    this.dir = dir;
  }

  /** The client properties file of {@code principal} (one of {@link #PRINCIPALS}). */
  Path clientConfig(String principal) {
    return dir.resolve(principal + ".properties");
  }

  static SecureCluster start(
      Path dataDir, Path dir, int port, int controllerPort, int registryPort) {
    Path secureDir = dir.toAbsolutePath();
    Properties creds = credentials(secureDir);
    BrokerTls tls = BrokerTls.createOrLoad(secureDir, creds.getProperty("tls"));
    EmbeddedKafka kafka = EmbeddedKafka.startSecured(dataDir, port, controllerPort, tls);
    try {
      Map<String, Object> internal = tls.internalClientConfig(kafka.internalBootstrapServers());
      try (Admin admin = Admin.create(internal)) {
        createUsers(admin, creds);
        admin.createAcls(acls()).all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        createTopics(admin);
      }
      // The registry is part of this process, like the broker: it reaches Kafka as the broker's TLS
      // identity.
      EmbeddedSchemaRegistry registry =
          EmbeddedSchemaRegistry.builder(kafka.internalBootstrapServers())
              .kafkaConfig(internal)
              .port(registryPort)
              .basicAuth(REGISTRY_USER, creds.getProperty(REGISTRY_USER))
              .start();
      SecureCluster cluster = new SecureCluster(kafka, registry, secureDir);
      try {
        for (String p : PRINCIPALS) {
          cluster.writeClientConfig(p, creds, tls);
        }
        cluster.awaitLogin();
        return cluster;
      } catch (RuntimeException e) {
        registry.close();
        throw e;
      }
    } catch (ExecutionException e) {
      kafka.close();
      throw new IllegalStateException(
          "cannot set up the secured broker: " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      kafka.close();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted setting up the secured broker", e);
    } catch (java.util.concurrent.TimeoutException e) {
      kafka.close();
      throw new IllegalStateException(
          "the secured broker did not answer the setup within " + TIMEOUT, e);
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  /**
   * DIR/credentials.properties, with a password made for every principal, the registry and the
   * stores that lack one.
   */
  private static Properties credentials(Path dir) {
    Path file = dir.resolve(CREDENTIALS_FILE);
    Properties p = new Properties();
    try {
      Files.createDirectories(dir);
      if (Files.exists(file)) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          p.load(r);
        }
      }
      List<String> names = new ArrayList<>(PRINCIPALS);
      names.add(REGISTRY_USER);
      names.add("tls");
      boolean changed = false;
      for (String n : names) {
        if (p.getProperty(n) == null) {
          p.setProperty(n, Secrets.newPassword());
          changed = true;
        }
      }
      if (changed) {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
          p.store(
              w,
              "mocostream up --secure: SCRAM passwords (per principal), registry and TLS store passwords");
        }
        Secrets.ownerOnly(file);
      }
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot keep the credentials in " + file + ": " + e.getMessage(), e);
    }
  }

  private static void createUsers(Admin admin, Properties creds)
      throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
    List<org.apache.kafka.clients.admin.UserScramCredentialAlteration> upserts = new ArrayList<>();
    for (String p : PRINCIPALS) {
      upserts.add(
          new UserScramCredentialUpsertion(
              p,
              new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192),
              creds.getProperty(p)));
    }
    admin.alterUserScramCredentials(upserts).all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The least-privilege ACLs of the pipeline's roles (creating an ACL that exists is a no-op). */
  static List<AclBinding> acls() {
    List<AclBinding> a = new ArrayList<>();
    TrainerConfig t = TrainerConfig.of(Map.of(TrainerConfig.MODEL_NAME_CONFIG, "any"));
    String versions = ModelTopics.DEFAULT_TOPIC;
    // producer
    allow(
        a,
        "producer",
        ResourceType.TOPIC,
        FRAMES,
        PatternType.LITERAL,
        AclOperation.WRITE,
        AclOperation.DESCRIBE,
        AclOperation.DESCRIBE_CONFIGS);
    allow(
        a,
        "producer",
        ResourceType.CLUSTER,
        "kafka-cluster",
        PatternType.LITERAL,
        AclOperation.IDEMPOTENT_WRITE);
    // ingest (a Kafka Streams app: its internal topics, group and transactional ids carry its
    // application id)
    allow(
        a,
        "ingest",
        ResourceType.TOPIC,
        FRAMES,
        PatternType.LITERAL,
        AclOperation.READ,
        AclOperation.DESCRIBE);
    for (String out : List.of(TRAIN, DLQ)) {
      allow(
          a,
          "ingest",
          ResourceType.TOPIC,
          out,
          PatternType.LITERAL,
          AclOperation.WRITE,
          AclOperation.DESCRIBE);
    }
    allow(a, "ingest", ResourceType.TOPIC, INGEST_PREFIX, PatternType.PREFIXED, AclOperation.ALL);
    allow(
        a,
        "ingest",
        ResourceType.GROUP,
        INGEST_PREFIX,
        PatternType.PREFIXED,
        AclOperation.READ,
        AclOperation.DESCRIBE);
    allow(
        a,
        "ingest",
        ResourceType.TRANSACTIONAL_ID,
        INGEST_PREFIX,
        PatternType.PREFIXED,
        AclOperation.WRITE,
        AclOperation.DESCRIBE);
    allow(
        a,
        "ingest",
        ResourceType.CLUSTER,
        "kafka-cluster",
        PatternType.LITERAL,
        AclOperation.IDEMPOTENT_WRITE);
    // trainer: the only writer of the model, state and step-log topics
    for (String in : List.of(FRAMES, TRAIN)) {
      allow(
          a,
          "trainer",
          ResourceType.TOPIC,
          in,
          PatternType.LITERAL,
          AclOperation.READ,
          AclOperation.DESCRIBE);
    }
    for (String own : List.of(versions, t.stateTopic(), t.stepsTopic())) {
      allow(
          a,
          "trainer",
          ResourceType.TOPIC,
          own,
          PatternType.LITERAL,
          AclOperation.READ,
          AclOperation.WRITE,
          AclOperation.DESCRIBE,
          AclOperation.DESCRIBE_CONFIGS);
    }
    allow(
        a,
        "trainer",
        ResourceType.TOPIC,
        DLQ,
        PatternType.LITERAL,
        AclOperation.WRITE,
        AclOperation.DESCRIBE);
    allow(
        a, "trainer", ResourceType.GROUP, TRAINER_PREFIX, PatternType.PREFIXED, AclOperation.READ);
    allow(
        a,
        "trainer",
        ResourceType.TRANSACTIONAL_ID,
        TRAINER_PREFIX,
        PatternType.PREFIXED,
        AclOperation.WRITE,
        AclOperation.DESCRIBE);
    allow(
        a,
        "trainer",
        ResourceType.CLUSTER,
        "kafka-cluster",
        PatternType.LITERAL,
        AclOperation.IDEMPOTENT_WRITE);
    // subscriber: reads verified versions, nothing else
    allow(
        a,
        "subscriber",
        ResourceType.TOPIC,
        versions,
        PatternType.LITERAL,
        AclOperation.READ,
        AclOperation.DESCRIBE);
    allow(
        a,
        "subscriber",
        ResourceType.GROUP,
        SUBSCRIBER_PREFIX,
        PatternType.PREFIXED,
        AclOperation.READ);
    // embedder: frames and verified versions in, embeddings and its own dead letters out
    for (String in : List.of(FRAMES, TRAIN, versions)) {
      allow(
          a,
          "embedder",
          ResourceType.TOPIC,
          in,
          PatternType.LITERAL,
          AclOperation.READ,
          AclOperation.DESCRIBE);
    }
    for (String out : List.of(EmbedOptions.DEFAULT_OUT_TOPIC, EmbedOptions.DEFAULT_DLQ_TOPIC)) {
      allow(
          a,
          "embedder",
          ResourceType.TOPIC,
          out,
          PatternType.LITERAL,
          AclOperation.WRITE,
          AclOperation.DESCRIBE);
    }
    allow(a, "embedder", ResourceType.TOPIC, EMBED_PREFIX, PatternType.PREFIXED, AclOperation.ALL);
    allow(
        a,
        "embedder",
        ResourceType.GROUP,
        EMBED_PREFIX,
        PatternType.PREFIXED,
        AclOperation.READ,
        AclOperation.DESCRIBE);
    allow(
        a,
        "embedder",
        ResourceType.TRANSACTIONAL_ID,
        EMBED_PREFIX,
        PatternType.PREFIXED,
        AclOperation.WRITE,
        AclOperation.DESCRIBE);
    allow(
        a,
        "embedder",
        ResourceType.CLUSTER,
        "kafka-cluster",
        PatternType.LITERAL,
        AclOperation.IDEMPOTENT_WRITE);
    return a;
  }

  private static void allow(
      List<AclBinding> a,
      String user,
      ResourceType type,
      String name,
      PatternType pattern,
      AclOperation... ops) {
    for (AclOperation op : ops) {
      a.add(
          new AclBinding(
              new ResourcePattern(type, name, pattern),
              new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW)));
    }
  }

  /** The pipeline's topics with their settings; those that exist are kept. */
  private static void createTopics(Admin admin)
      throws InterruptedException, java.util.concurrent.TimeoutException {
    Map<String, NewTopic> topics = new LinkedHashMap<>();
    topics.put(FRAMES, new NewTopic(FRAMES, Optional.empty(), Optional.empty()));
    topics.put(TRAIN, new NewTopic(TRAIN, Optional.empty(), Optional.empty()));
    for (String t : List.of(EmbedOptions.DEFAULT_OUT_TOPIC, EmbedOptions.DEFAULT_DLQ_TOPIC)) {
      topics.put(
          t,
          new NewTopic(
              t,
              Optional.empty(),
              Optional.empty())); // frames.raw's count: keys keep their partition
    }
    for (NewTopic t :
        StreamTrainer.topics(TrainerConfig.of(Map.of(TrainerConfig.MODEL_NAME_CONFIG, "any")))) {
      topics.putIfAbsent(t.name(), t);
    }
    ModelTopics.Settings model = ModelTopics.Settings.defaults();
    topics.put(
        ModelTopics.DEFAULT_TOPIC,
        new NewTopic(ModelTopics.DEFAULT_TOPIC, Optional.of(model.partitions()), Optional.empty())
            .configs(model.configs()));
    for (var e : admin.createTopics(topics.values()).values().entrySet()) {
      try {
        e.getValue().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (ExecutionException ex) {
        if (!(ex.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException(
              "cannot create topic " + e.getKey() + ": " + ex.getCause().getMessage(),
              ex.getCause());
        }
      }
    }
  }

  private void writeClientConfig(String principal, Properties creds, BrokerTls tls) {
    Path file = clientConfig(principal);
    Properties p = new Properties();
    p.setProperty("bootstrap.servers", kafka.bootstrapServers());
    p.setProperty("security.protocol", "SASL_SSL");
    p.setProperty("sasl.mechanism", "SCRAM-SHA-512");
    p.setProperty(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + principal
            + "\" password=\""
            + creds.getProperty(principal)
            + "\";");
    p.setProperty("ssl.truststore.type", "PKCS12");
    p.setProperty("ssl.truststore.location", tls.truststore().toString());
    p.setProperty("ssl.truststore.password", tls.password());
    p.setProperty("basic.auth.credentials.source", "USER_INFO");
    p.setProperty("basic.auth.user.info", REGISTRY_USER + ":" + creds.getProperty(REGISTRY_USER));
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(
          w,
          "mocostream client settings of principal User:"
              + principal
              + " (use with --client-config); registry "
              + registry.url());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    Secrets.ownerOnly(file);
  }

  /**
   * New SCRAM users reach the broker's metadata a moment after the controller commits them: wait
   * for a login.
   */
  private void awaitLogin() {
    Map<String, Object> c = new HashMap<>();
    io.mocostream.registry.client.ClientSettings s =
        io.mocostream.registry.client.ClientSettings.load(
            clientConfig(PRINCIPALS.get(PRINCIPALS.size() - 1)));
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try (Admin admin = Admin.create(s.admin(c))) {
        admin.describeCluster().clusterId().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return;
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        last =
            new IllegalStateException(
                e.getCause() == null ? e.toString() : e.getCause().getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    throw new IllegalStateException(
        "SCRAM users created but no login succeeded within " + TIMEOUT, last);
  }

  @Override
  public void close() {
    registry.close();
    kafka.close();
  }
}
