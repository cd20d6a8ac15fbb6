package io.mocostream.registry.client;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Configuration names of the schema registry client, spelled exactly as Confluent's client spells
 * them so that one properties file configures this client and Confluent's alike. Parsed with
 * Kafka's own {@link ConfigDef} (types, defaults, validation, docs), like {@code ProducerConfig}.
 *
 * <p>TLS settings are Kafka's client SSL settings under the {@value #CLIENT_NAMESPACE} prefix, for
 * example {@code schema.registry.ssl.truststore.location}; they are turned into an {@code
 * SSLContext} by Kafka's {@code DefaultSslEngineFactory}, so JKS, PKCS12 and PEM stores all work.
 */
public final class SchemaRegistryClientConfig extends AbstractConfig {

  /** Prefix under which the TLS settings live ({@code schema.registry.ssl.*}). */
  public static final String CLIENT_NAMESPACE = "schema.registry.";

  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  public static final String SCHEMA_REGISTRY_URL_DOC =
      "Comma-separated base URLs of the schema registry, e.g. http://127.0.0.1:8081. When a URL cannot be reached"
          + " the client tries the next one. User info in a URL (http://user:pass@host) is used for basic"
          + " authentication when basic.auth.credentials.source=URL.";

  public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
  public static final String BASIC_AUTH_CREDENTIALS_SOURCE_DOC =
      "Where basic-auth credentials come from: URL (user info in schema.registry.url, the default) or USER_INFO"
          + " (basic.auth.user.info). Confluent's SASL_INHERIT is not supported.";

  public static final String USER_INFO_CONFIG = "basic.auth.user.info";
  public static final String USER_INFO_DOC =
      "Basic-auth credentials as user:password, sent in an Authorization header with every request when"
          + " basic.auth.credentials.source=USER_INFO.";

  /** Deprecated spelling Confluent still accepts; read when {@link #USER_INFO_CONFIG} is absent. */
  public static final String SCHEMA_REGISTRY_USER_INFO_CONFIG =
      "schema.registry.basic.auth.user.info";

  public static final String SCHEMA_REGISTRY_USER_INFO_DOC =
      "Deprecated alias of " + USER_INFO_CONFIG + ".";

  public static final String BEARER_AUTH_CREDENTIALS_SOURCE = "bearer.auth.credentials.source";
  public static final String BEARER_AUTH_CREDENTIALS_SOURCE_DOC =
      "STATIC_TOKEN to send bearer.auth.token as 'Authorization: Bearer <token>' with every request (unset: no"
          + " bearer token). Confluent's OAUTHBEARER and SASL_OAUTHBEARER_INHERIT sources are not supported.";
  public static final String BEARER_AUTH_TOKEN_CONFIG = "bearer.auth.token";
  public static final String BEARER_AUTH_TOKEN_DOC =
      "The static bearer token (bearer.auth.credentials.source=STATIC_TOKEN).";
  public static final String CREDENTIALS_SOURCE_STATIC_TOKEN = "STATIC_TOKEN";

  public static final String HTTP_CONNECT_TIMEOUT_MS = "http.connect.timeout.ms";
  public static final String HTTP_CONNECT_TIMEOUT_MS_DOC =
      "How long to wait for a TCP connection to one registry URL before trying the next. Default 5000 ms"
          + " (Confluent's is 60000): a registry that is down should fail a producer fast, not stall it.";
  public static final int HTTP_CONNECT_TIMEOUT_MS_DEFAULT = 5_000;

  public static final String HTTP_READ_TIMEOUT_MS = "http.read.timeout.ms";
  public static final String HTTP_READ_TIMEOUT_MS_DOC =
      "How long to wait for the response to one request to one URL (the whole request, headers and body).";
  public static final int HTTP_READ_TIMEOUT_MS_DEFAULT = 30_000;

  /** Values of {@link #BASIC_AUTH_CREDENTIALS_SOURCE}. */
  public static final String CREDENTIALS_SOURCE_URL = "URL";

  public static final String CREDENTIALS_SOURCE_USER_INFO = "USER_INFO";

  private static final ConfigDef CONFIG = addTo(new ConfigDef());

  public SchemaRegistryClientConfig(Map<?, ?> originals) {
    super(CONFIG, originals, false);
  }

  /** A copy of this client's definitions, e.g. to describe them in a CLI's help. */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /**
   * Adds the client's definitions to {@code def} (the serdes' config embeds them) and returns it.
   */
  public static ConfigDef addTo(ConfigDef def) {
    // No ConfigDef default-less definition for the URL: a serde handed a ready client needs none.
    // Whoever builds a
    // client from configs checks that one is there (RegistryClientConfig.fromConfigs), with Kafka's
    // wording.
    def.define(
            SCHEMA_REGISTRY_URL_CONFIG,
            Type.LIST,
            List.of(),
            Importance.HIGH,
            SCHEMA_REGISTRY_URL_DOC)
        .define(
            BASIC_AUTH_CREDENTIALS_SOURCE,
            Type.STRING,
            CREDENTIALS_SOURCE_URL,
            ConfigDef.CaseInsensitiveValidString.in(
                CREDENTIALS_SOURCE_URL, CREDENTIALS_SOURCE_USER_INFO),
            Importance.MEDIUM,
            BASIC_AUTH_CREDENTIALS_SOURCE_DOC)
        .define(USER_INFO_CONFIG, Type.PASSWORD, "", Importance.MEDIUM, USER_INFO_DOC)
        .define(
            SCHEMA_REGISTRY_USER_INFO_CONFIG,
            Type.PASSWORD,
            "",
            Importance.LOW,
            SCHEMA_REGISTRY_USER_INFO_DOC)
        .define(
            BEARER_AUTH_CREDENTIALS_SOURCE,
            Type.STRING,
            "",
            ConfigDef.CaseInsensitiveValidString.in("", CREDENTIALS_SOURCE_STATIC_TOKEN),
            Importance.MEDIUM,
            BEARER_AUTH_CREDENTIALS_SOURCE_DOC)
        .define(
            BEARER_AUTH_TOKEN_CONFIG, Type.PASSWORD, "", Importance.MEDIUM, BEARER_AUTH_TOKEN_DOC)
        .define(
            HTTP_CONNECT_TIMEOUT_MS,
            Type.INT,
            HTTP_CONNECT_TIMEOUT_MS_DEFAULT,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            HTTP_CONNECT_TIMEOUT_MS_DOC)
        .define(
            HTTP_READ_TIMEOUT_MS,
            Type.INT,
            HTTP_READ_TIMEOUT_MS_DEFAULT,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            HTTP_READ_TIMEOUT_MS_DOC);
    // Kafka's client TLS settings (ssl.truststore.location, ssl.keystore.type, ...) under
    // schema.registry.,
    // the way Confluent's client defines them.
    for (ConfigDef.ConfigKey key : new ConfigDef().withClientSslSupport().configKeys().values()) {
      def.define(
          CLIENT_NAMESPACE + key.name,
          key.type,
          key.defaultValue,
          key.validator,
          key.importance,
          key.documentation);
    }
    return def;
  }
}
