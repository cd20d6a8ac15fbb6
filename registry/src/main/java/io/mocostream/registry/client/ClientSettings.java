package io.mocostream.registry.client;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;

/**
 * How a command's clients reach a secured cluster: Kafka client properties (security.protocol,
 * SASL, TLS, anything else) laid over the command's own settings for its producers, consumers,
 * admin clients and Kafka Streams apps, and schema registry client settings (basic auth, bearer
 * token, {@code schema.registry.ssl.*}).
 *
 * <p>One properties file holds both, as in Confluent's client files: keys that the registry client
 * defines ({@link SchemaRegistryClientConfig}) are registry settings, every other key is a Kafka
 * client setting. The user's settings win over the command's: that is what "laid over" means, so a
 * file can also tune {@code linger.ms} or {@code client.id}. {@code bootstrap.servers} and {@code
 * schema.registry.url} in a file are honoured the same way.
 *
 * @param kafka Kafka client properties (values as strings, as in a properties file)
 * @param registry registry client settings, named as in {@link SchemaRegistryClientConfig}
 */
public record ClientSettings(Map<String, String> kafka, Map<String, String> registry) {
  /** No overrides: a plaintext cluster and an open registry. */
  public static final ClientSettings NONE = new ClientSettings(Map.of(), Map.of());

  private static final Set<String> REGISTRY_KEYS = SchemaRegistryClientConfig.configDef().names();
  private static final Pattern JAAS_USER = Pattern.compile("username\\s*=\\s*\"([^\"]*)\"");

  public ClientSettings {
    kafka = Map.copyOf(kafka);
    registry = Map.copyOf(registry);
  }

  /** Splits {@code props} into Kafka and registry settings. */
  public static ClientSettings of(Map<String, String> props) {
    Map<String, String> kafka = new HashMap<>();
    Map<String, String> registry = new HashMap<>();
    props.forEach((k, v) -> (REGISTRY_KEYS.contains(k) ? registry : kafka).put(k, v));
    return new ClientSettings(kafka, registry);
  }

  /**
   * Reads a Java properties file (Kafka's {@code client.properties} format).
   *
   * @throws UncheckedIOException naming the file when it cannot be read
   */
  public static ClientSettings load(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the client config file " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "client config file " + file + " is not a properties file: " + e.getMessage(), e);
    }
    Map<String, String> m = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k).trim()));
    return of(m);
  }

  /** These settings with {@code more} laid over them (more wins). */
  public ClientSettings with(ClientSettings more) {
    Map<String, String> k = new HashMap<>(kafka);
    k.putAll(more.kafka);
    Map<String, String> r = new HashMap<>(registry);
    r.putAll(more.registry);
    return new ClientSettings(k, r);
  }

  /**
   * A producer's config: {@code own} with the Kafka settings a producer knows laid over, plus the
   * registry settings.
   */
  public Map<String, Object> producer(Map<String, ?> own) {
    return layered(own, ProducerConfig.configNames());
  }

  /**
   * A consumer's config: {@code own} with the consumer's Kafka settings laid over, plus the
   * registry settings.
   */
  public Map<String, Object> consumer(Map<String, ?> own) {
    return layered(own, ConsumerConfig.configNames());
  }

  /** An admin client's config: {@code own} with the admin client's Kafka settings laid over. */
  public Map<String, Object> admin(Map<String, ?> own) {
    Map<String, Object> m = new HashMap<>(own);
    kafka.forEach(
        (k, v) -> {
          if (AdminClientConfig.configNames().contains(k)) {
            m.put(k, v);
          }
        });
    return m;
  }

  /**
   * A Kafka Streams app's config: {@code own} with every Kafka setting laid over (Streams hands
   * client settings to its producers, consumers and admin client), plus the registry settings for
   * its serdes.
   */
  public Map<String, Object> streams(Map<String, ?> own) {
    Map<String, Object> m = new HashMap<>(own);
    m.putAll(kafka);
    m.putAll(registry);
    return m;
  }

  /** A serde's (or registry client's) config: {@code own} with the registry settings laid over. */
  public Map<String, Object> serde(Map<String, ?> own) {
    Map<String, Object> m = new HashMap<>(own);
    m.putAll(registry);
    return m;
  }

  /** The registry client for {@code url} with these credentials and TLS settings. */
  public RegistryClientConfig registryClient(String url) {
    Map<String, Object> m = new HashMap<>();
    m.put(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, url);
    return RegistryClientConfig.fromConfigs(serde(m));
  }

  /**
   * The SASL principal these settings log in as ({@code User:name} from {@code sasl.jaas.config}),
   * or a description when there is none to read (TLS client certificates, Kerberos, plaintext).
   */
  public String principal() {
    String jaas = kafka.get(SaslConfigs.SASL_JAAS_CONFIG);
    if (jaas != null) {
      Matcher m = JAAS_USER.matcher(jaas);
      if (m.find()) {
        return "User:" + m.group(1);
      }
    }
    String protocol = kafka.getOrDefault("security.protocol", "PLAINTEXT");
    return "this client's principal (security.protocol=" + protocol + ")";
  }

  /**
   * When {@code t} or one of its causes is a Kafka authorization error: one line naming the
   * principal, the operation and the resource, i.e. the ACL an operator has to add; else null.
   *
   * @param operation what the client was doing, as an ACL operation (READ, WRITE, DESCRIBE, CREATE,
   *     ...)
   * @param resource the resource when the error does not name one, e.g. "transactional id
   *     mocostream-trainer-m"
   */
  public String denied(Throwable t, String operation, String resource) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String what;
      String op = operation;
      if (c instanceof TopicAuthorizationException e) {
        what =
            e.unauthorizedTopics().isEmpty()
                ? resource
                : "topic " + String.join(", ", e.unauthorizedTopics());
      } else if (c instanceof GroupAuthorizationException e) {
        op = "READ"; // every group operation of a client (join, fetch or commit offsets) needs READ
        // on the group
        what = e.groupId() == null ? "its consumer group" : "group " + e.groupId();
      } else if (c instanceof TransactionalIdAuthorizationException) {
        what = resource;
      } else if (c instanceof ClusterAuthorizationException) {
        what = "the cluster (" + resource + ")";
      } else if (c instanceof AuthorizationException) {
        what = resource;
      } else {
        continue;
      }
      return "principal "
          + principal()
          + " lacks "
          + op
          + " on "
          + what
          + " ("
          + c.getMessage()
          + ")";
    }
    return null;
  }

  private Map<String, Object> layered(Map<String, ?> own, Set<String> names) {
    Map<String, Object> m = new HashMap<>(own);
    kafka.forEach(
        (k, v) -> {
          if (names.contains(k)) {
            m.put(k, v);
          }
        });
    m.putAll(registry);
    return m;
  }

  @Override
  public String toString() {
    // Keys only: the values hold passwords and tokens.
    return "ClientSettings[kafka="
        + new TreeSet<>(kafka.keySet())
        + ", registry="
        + new TreeSet<>(registry.keySet())
        + "]";
  }
}
