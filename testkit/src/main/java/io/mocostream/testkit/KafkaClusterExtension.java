package io.mocostream.testkit;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Hands a test method or constructor a {@link KafkaCluster}: one real broker and registry per JVM,
 * shared by every test class, closed when the test run ends.
 *
 * <p>Which cluster, in order: the system properties {@link #BOOTSTRAP_PROPERTY} and {@link
 * #REGISTRY_PROPERTY} name an external one; else Testcontainers runs {@code apache/kafka} and
 * {@code confluentinc/cp-schema-registry} when a Docker engine answers; else the broker and
 * registry run inside this JVM. {@link #MODE_PROPERTY} ({@code embedded}, {@code docker}, {@code
 * external}) forces a choice. The tests are the same everywhere.
 */
public final class KafkaClusterExtension implements ParameterResolver {
  /**
   * Bootstrap servers of an external cluster, e.g. {@code -Dmocostream.test.bootstrap=host:9092}.
   */
  public static final String BOOTSTRAP_PROPERTY = "mocostream.test.bootstrap";

  /**
   * Registry URL of an external cluster, e.g. {@code -Dmocostream.test.registry=http://host:8081}.
   */
  public static final String REGISTRY_PROPERTY = "mocostream.test.registry";

  /**
   * Forces {@code embedded}, {@code docker} or {@code external}; unset means the first that is
   * available.
   */
  public static final String MODE_PROPERTY = "mocostream.test.cluster";

  /** Image tags used with Docker; overridable by system property of the same name. */
  public static final String KAFKA_IMAGE_PROPERTY = "mocostream.test.kafka.image";

  public static final String REGISTRY_IMAGE_PROPERTY = "mocostream.test.registry.image";
  static final String DEFAULT_KAFKA_IMAGE = "apache/kafka:4.1.0";
  static final String DEFAULT_REGISTRY_IMAGE = "confluentinc/cp-schema-registry:8.0.0";

  private static final Logger log = LoggerFactory.getLogger(KafkaClusterExtension.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(KafkaClusterExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == KafkaCluster.class;
  }

  @Override
  public KafkaCluster resolveParameter(ParameterContext parameter, ExtensionContext context) {
    // The root store outlives every test class, so one cluster serves the whole run and closes at
    // its end.
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent("cluster", key -> start(), Started.class);
  }

  /** Starts the cluster this JVM's properties and environment call for; the caller closes it. */
  public static Started start() {
    String mode = System.getProperty(MODE_PROPERTY, "").toLowerCase(Locale.ROOT);
    String bootstrap = System.getProperty(BOOTSTRAP_PROPERTY);
    String registry = System.getProperty(REGISTRY_PROPERTY);
    if (mode.equals("external") || (mode.isEmpty() && bootstrap != null)) {
      if (bootstrap == null || registry == null) {
        throw new ParameterResolutionException(
            "an external cluster needs both -D"
                + BOOTSTRAP_PROPERTY
                + " and -D"
                + REGISTRY_PROPERTY
                + " (got "
                + bootstrap
                + ", "
                + registry
                + ")");
      }
      return new Started("external", bootstrap, registry, List.of());
    }
    if (mode.equals("docker") || (mode.isEmpty() && dockerAvailable())) {
      return startContainers();
    }
    if (!mode.isEmpty() && !mode.equals("embedded")) {
      throw new ParameterResolutionException(
          MODE_PROPERTY + " must be embedded, docker or external, not '" + mode + "'");
    }
    return startEmbedded();
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError | java.util.ServiceConfigurationError e) {
      log.debug("no Docker engine: {}", e.toString());
      return false;
    }
  }

  private static Started startEmbedded() {
    EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
    try {
      EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
      log.info(
          "test cluster: embedded broker {} and registry {}",
          kafka.bootstrapServers(),
          registry.url());
      // Close order: registry before the broker it stores into.
      return new Started(
          "embedded", kafka.bootstrapServers(), registry.url(), List.of(registry, kafka));
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  private static Started startContainers() {
    Network network = Network.newNetwork();
    KafkaContainer kafka =
        new KafkaContainer(System.getProperty(KAFKA_IMAGE_PROPERTY, DEFAULT_KAFKA_IMAGE))
            .withNetwork(network)
            .withListener("kafka:19092");
    kafka.start();
    GenericContainer<?> registry =
        new GenericContainer<>(System.getProperty(REGISTRY_IMAGE_PROPERTY, DEFAULT_REGISTRY_IMAGE))
            .withNetwork(network)
            .withExposedPorts(8081)
            .withEnv("SCHEMA_REGISTRY_HOST_NAME", "schema-registry")
            .withEnv("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:8081")
            .withEnv("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "PLAINTEXT://kafka:19092")
            .waitingFor(
                Wait.forHttp("/subjects")
                    .forStatusCode(200)
                    .withStartupTimeout(Duration.ofMinutes(2)));
    registry.start();
    String url = "http://" + registry.getHost() + ":" + registry.getMappedPort(8081);
    log.info("test cluster: containers {} and {}", kafka.getBootstrapServers(), url);
    return new Started(
        "docker",
        kafka.getBootstrapServers(),
        url,
        List.of(registry::stop, kafka::stop, network::close));
  }

  /** A started cluster and what to close, in order, when the run ends. */
  public static final class Started implements KafkaCluster, AutoCloseable {
    private final String kind;
    private final String bootstrap;
    private final String registryUrl;
    private final List<AutoCloseable> closeables;

    Started(String kind, String bootstrap, String registryUrl, List<AutoCloseable> closeables) {
      this.kind = kind;
      this.bootstrap = bootstrap;
      this.registryUrl = registryUrl;
      this.closeables = new ArrayList<>(closeables);
    }

    @Override
    public String bootstrapServers() {
      return bootstrap;
    }

    @Override
    public String registryUrl() {
      return registryUrl;
    }

    @Override
    public String kind() {
      return kind;
    }

    @Override
    public void createTopic(String name, int partitions, Map<String, String> configs) {
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
            .all()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new IllegalStateException(
              "cannot create topic " + name + " on " + bootstrap, e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted creating topic " + name, e);
      } catch (TimeoutException e) {
        throw new IllegalStateException(
            "topic " + name + " not created within 30 s on " + bootstrap, e);
      }
    }

    @Override
    public void close() {
      for (AutoCloseable c : closeables) {
        try {
          c.close();
        } catch (Exception e) {
          log.warn("closing the test cluster: {}", e.toString());
        }
      }
    }
  }
}
