package io.mocostream.producer.publish;

import io.mocostream.registry.client.ClientSettings;
import io.mocostream.registry.client.RegistryClientConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks, before streaming, that the broker and the registry answer, so that a service that is down
 * is a clear error within seconds instead of a stalled first send; and makes sure the topic exists
 * (created with the broker's default partitions and replication when missing).
 */
public final class ServiceCheck {
  private static final Logger log = LoggerFactory.getLogger(ServiceCheck.class);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** What the producer needs to know about its topic. */
  public record TopicInfo(String name, int partitions, long maxMessageBytes, boolean created) {}

  private ServiceCheck() {}

  /** Both services, then the topic. */
  public static TopicInfo check(
      String bootstrap, String registryUrl, String topic, Duration timeout) {
    return check(bootstrap, registryUrl, topic, timeout, ClientSettings.NONE);
  }

  /**
   * Both services with the client settings of a secured cluster (SASL/TLS, registry credentials),
   * then the topic.
   */
  public static TopicInfo check(
      String bootstrap,
      String registryUrl,
      String topic,
      Duration timeout,
      ClientSettings clients) {
    // Registry first: it answers (or not) in milliseconds, and a run that cannot serialize must not
    // create topics.
    checkRegistry(registryUrl, timeout, clients);
    return checkBroker(bootstrap, topic, timeout, clients);
  }

  /** Broker reachable (cluster described within the timeout), topic present or created. */
  public static TopicInfo checkBroker(String bootstrap, String topic, Duration timeout) {
    return checkBroker(bootstrap, topic, timeout, ClientSettings.NONE);
  }

  /**
   * Broker reachable, topic present (described, so a principal without CREATE rights can publish to
   * an existing topic) or created; an authorization failure names the ACL that is missing.
   */
  public static TopicInfo checkBroker(
      String bootstrap, String topic, Duration timeout, ClientSettings clients) {
    int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    probeTcp(bootstrap, ms);
    Map<String, Object> conf =
        clients.admin(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000));
    Admin admin;
    try {
      admin = Admin.create(conf);
    } catch (KafkaException e) {
      throw new PublishException(
          "broker address '" + bootstrap + "' is not usable: " + FramePublisher.messageChain(e), e);
    }
    try (admin) {
      try {
        admin.describeCluster().nodes().get(ms, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
        throw new PublishException(
            "broker at "
                + bootstrap
                + " unreachable: no answer within "
                + timeout.toSeconds()
                + " s"
                + (e.getCause() == null ? "" : ": " + FramePublisher.messageChain(e.getCause())),
            e);
      }
      boolean created = false;
      TopicDescription description;
      try {
        description = describe(admin, topic, ms);
      } catch (ExecutionException e) {
        String denied = clients.denied(e.getCause(), "DESCRIBE", "topic " + topic);
        if (denied != null) {
          throw new PublishException(denied, e.getCause());
        }
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new PublishException(
              "cannot describe topic "
                  + topic
                  + " at "
                  + bootstrap
                  + ": "
                  + FramePublisher.messageChain(e.getCause()),
              e);
        }
        try {
          admin
              .createTopics(List.of(new NewTopic(topic, Optional.empty(), Optional.empty())))
              .all()
              .get(ms, TimeUnit.MILLISECONDS);
          created = true;
          log.info("created topic {} with the broker's default partitions and replication", topic);
        } catch (ExecutionException ce) {
          String createDenied = clients.denied(ce.getCause(), "CREATE", "topic " + topic);
          if (createDenied != null) {
            throw new PublishException(
                "topic " + topic + " does not exist and " + createDenied, ce.getCause());
          }
          if (!(ce.getCause() instanceof TopicExistsException)) {
            throw new PublishException(
                "cannot create topic "
                    + topic
                    + " at "
                    + bootstrap
                    + ": "
                    + FramePublisher.messageChain(ce.getCause()),
                ce);
          }
        }
        description = describeUntilPresent(admin, topic, ms);
      }
      ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Config config;
      try {
        config = admin.describeConfigs(List.of(res)).all().get(ms, TimeUnit.MILLISECONDS).get(res);
      } catch (ExecutionException e) {
        String denied = clients.denied(e.getCause(), "DESCRIBE_CONFIGS", "topic " + topic);
        if (denied == null) {
          throw e;
        }
        // Without the right the limit is unknown: keep Kafka's default, and let the broker refuse
        // larger frames.
        log.warn("{}; assuming Kafka's default max.message.bytes for {}", denied, topic);
        config = null;
      }
      ConfigEntry max = config == null ? null : config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
      long maxMessageBytes =
          max == null || max.value() == null ? 1_048_588L : Long.parseLong(max.value());
      return new TopicInfo(topic, description.partitions().size(), maxMessageBytes, created);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PublishException("interrupted while checking the broker at " + bootstrap, e);
    } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
      throw new PublishException(
          "broker at "
              + bootstrap
              + " did not answer about topic "
              + topic
              + ": "
              + FramePublisher.messageChain(e),
          e);
    }
  }

  /**
   * Fails at once when no bootstrap address accepts a TCP connection. The admin client would retry
   * a refused connection until its timeout and then only say it timed out; a refused or
   * unresolvable address is known in milliseconds and deserves its own reason. A silent
   * (firewalled) address still takes the connect timeout.
   */
  static void probeTcp(String bootstrap, int timeoutMs) {
    StringBuilder problems = new StringBuilder();
    for (String address : bootstrap.split(",")) {
      String a = address.trim();
      int colon = a.lastIndexOf(':');
      if (a.isEmpty() || colon <= 0 || colon == a.length() - 1) {
        problems
            .append(problems.length() == 0 ? "" : "; ")
            .append("'")
            .append(a)
            .append("' is not host:port");
        continue;
      }
      String host = a.substring(0, colon).replace("[", "").replace("]", "");
      try (Socket socket = new Socket()) {
        socket.connect(
            new InetSocketAddress(host, Integer.parseInt(a.substring(colon + 1))), timeoutMs);
        return;
      } catch (NumberFormatException e) {
        problems
            .append(problems.length() == 0 ? "" : "; ")
            .append("'")
            .append(a)
            .append("' has no numeric port");
      } catch (IOException | IllegalArgumentException e) {
        problems
            .append(problems.length() == 0 ? "" : "; ")
            .append(a)
            .append(": ")
            .append(e.getMessage());
      }
    }
    throw new PublishException("broker at " + bootstrap + " unreachable: " + problems);
  }

  private static TopicDescription describe(Admin admin, String topic, int ms)
      throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(ms, TimeUnit.MILLISECONDS)
        .get(topic);
  }

  /** A freshly created topic takes a moment to appear in metadata. */
  private static TopicDescription describeUntilPresent(Admin admin, String topic, int ms)
      throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (true) {
      try {
        return describe(admin, topic, ms);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * The registry answers {@code GET /subjects} with 200. A comma-separated URL list (as Confluent's
   * clients accept) passes when any of them answers.
   */
  public static void checkRegistry(String registryUrl, Duration timeout) {
    checkRegistry(registryUrl, timeout, ClientSettings.NONE);
  }

  /** The same, with the registry credentials and TLS settings the serializer will use. */
  public static void checkRegistry(String registryUrl, Duration timeout, ClientSettings clients) {
    if (registryUrl == null || registryUrl.isBlank()) {
      throw new PublishException("no schema registry URL given");
    }
    RegistryClientConfig registry;
    try {
      registry = clients.registryClient(registryUrl);
    } catch (RuntimeException e) {
      throw new PublishException("schema registry settings: " + e.getMessage(), e);
    }
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout);
    if (registry.sslContext() != null) {
      builder.sslContext(registry.sslContext());
    }
    String authorization =
        registry.bearerToken() != null
            ? "Bearer " + registry.bearerToken()
            : registry.basicAuthUserInfo() == null
                ? null
                : "Basic "
                    + java.util.Base64.getEncoder()
                        .encodeToString(
                            registry
                                .basicAuthUserInfo()
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    HttpClient http = builder.build();
    StringBuilder problems = new StringBuilder();
    for (String base : registryUrl.split(",")) {
      String url = base.trim().replaceAll("/+$", "") + "/subjects";
      try {
        HttpRequest.Builder request =
            HttpRequest.newBuilder(URI.create(url))
                .timeout(timeout)
                .GET()
                .header("Accept", "application/vnd.schemaregistry.v1+json");
        if (authorization != null) {
          request.header("Authorization", authorization);
        }
        HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        problems
            .append(problems.length() == 0 ? "" : "; ")
            .append(url)
            .append(" answered HTTP ")
            .append(r.statusCode())
            .append(' ')
            .append(abbreviate(r.body()));
      } catch (IllegalArgumentException e) {
        problems
            .append(problems.length() == 0 ? "" : "; ")
            .append("bad URL '")
            .append(base)
            .append("': ")
            .append(e.getMessage());
      } catch (IOException e) {
        problems.append(problems.length() == 0 ? "" : "; ").append(url).append(": ").append(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PublishException(
            "interrupted while checking the schema registry at " + registryUrl, e);
      }
    }
    throw new PublishException("schema registry at " + registryUrl + " unreachable: " + problems);
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }
}
