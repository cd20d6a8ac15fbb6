package io.mocostream.registry.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;

/**
 * Resolved settings of a {@link SchemaRegistryClient}.
 *
 * @param baseUrls registry base URLs, tried in turn when one cannot be reached (no user info, no
 *     trailing /)
 * @param basicAuthUserInfo {@code user:password} for an Authorization header, or null for none
 * @param bearerToken a token sent as {@code Authorization: Bearer ...} (OAuth proxies, Confluent
 *     Cloud style), or null for none; exclusive with basic auth
 * @param sslContext TLS context for https URLs, or null for the JDK default
 * @param connectTimeout TCP connect timeout per URL
 * @param requestTimeout timeout of one request to one URL
 */
public record RegistryClientConfig(
    List<URI> baseUrls,
    String basicAuthUserInfo,
    SSLContext sslContext,
    Duration connectTimeout,
    Duration requestTimeout,
    String bearerToken) {

  public RegistryClientConfig {
    baseUrls = List.copyOf(baseUrls);
    if (baseUrls.isEmpty()) {
      throw new IllegalArgumentException("at least one schema registry URL is needed");
    }
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    if (basicAuthUserInfo != null && basicAuthUserInfo.indexOf(':') < 0) {
      // Never echo the value: it is a credential.
      throw new IllegalArgumentException(
          "basic auth user info must be user:password (no ':' found)");
    }
    if (basicAuthUserInfo != null && bearerToken != null) {
      throw new IllegalArgumentException(
          "basic auth and a bearer token exclude each other: configure one");
    }
  }

  public RegistryClientConfig(
      List<URI> baseUrls,
      String basicAuthUserInfo,
      SSLContext sslContext,
      Duration connectTimeout,
      Duration requestTimeout) {
    this(baseUrls, basicAuthUserInfo, sslContext, connectTimeout, requestTimeout, null);
  }

  /** Plain settings for comma-separated URLs with the default timeouts. */
  public static RegistryClientConfig of(String urls) {
    return fromConfigs(Map.of(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, urls));
  }

  public RegistryClientConfig withBasicAuth(String userInfo) {
    return new RegistryClientConfig(
        baseUrls, userInfo, sslContext, connectTimeout, requestTimeout, bearerToken);
  }

  public RegistryClientConfig withBearerToken(String token) {
    return new RegistryClientConfig(
        baseUrls, basicAuthUserInfo, sslContext, connectTimeout, requestTimeout, token);
  }

  public RegistryClientConfig withTimeouts(Duration connect, Duration request) {
    return new RegistryClientConfig(
        baseUrls, basicAuthUserInfo, sslContext, connect, request, bearerToken);
  }

  /**
   * Reads Kafka-style configs named as in {@link SchemaRegistryClientConfig} (Confluent's names);
   * other keys (producer settings, serde settings) are ignored, so a whole producer config map can
   * be passed.
   *
   * @throws ConfigException naming the setting and the reason when a value is missing or invalid
   */
  public static RegistryClientConfig fromConfigs(Map<String, ?> configs) {
    SchemaRegistryClientConfig config = new SchemaRegistryClientConfig(configs);
    String source =
        config
            .getString(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE)
            .toUpperCase(Locale.ROOT);
    String userInfo = null;
    List<URI> urls = new ArrayList<>();
    for (String raw : config.getList(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG)) {
      if (raw.isBlank()) {
        continue;
      }
      URI uri = parseUrl(raw.trim());
      if (uri.getRawUserInfo() != null) {
        if (userInfo == null && source.equals(SchemaRegistryClientConfig.CREDENTIALS_SOURCE_URL)) {
          userInfo =
              java.net.URLDecoder.decode(
                  uri.getRawUserInfo(), java.nio.charset.StandardCharsets.UTF_8);
        }
        uri = stripUserInfo(uri);
      }
      urls.add(uri);
    }
    if (urls.isEmpty()) {
      throw new ConfigException(
          "Missing required configuration \""
              + SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG
              + "\" which has no default value (comma-separated registry URLs, e.g. http://127.0.0.1:8081)");
    }
    if (source.equals(SchemaRegistryClientConfig.CREDENTIALS_SOURCE_USER_INFO)) {
      userInfo = password(config, SchemaRegistryClientConfig.USER_INFO_CONFIG);
      if (userInfo.isEmpty()) {
        userInfo = password(config, SchemaRegistryClientConfig.SCHEMA_REGISTRY_USER_INFO_CONFIG);
      }
      if (userInfo.isEmpty() || userInfo.indexOf(':') < 0) {
        throw new ConfigException(
            SchemaRegistryClientConfig.USER_INFO_CONFIG
                + " must be user:password when "
                + SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE
                + "=USER_INFO ("
                + (userInfo.isEmpty() ? "it is empty" : "no ':' found")
                + ")");
      }
    }
    String bearer = null;
    if (!config.getString(SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE).isEmpty()) {
      bearer = password(config, SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG);
      if (bearer.isBlank()) {
        throw new ConfigException(
            SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG
                + " is empty but "
                + SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE
                + "=STATIC_TOKEN");
      }
      if (source.equals(SchemaRegistryClientConfig.CREDENTIALS_SOURCE_URL)) {
        userInfo = null; // a URL's user info is not a configured credential; the token is
      }
    }
    SSLContext ssl = sslContext(configs);
    try {
      return new RegistryClientConfig(
          urls,
          userInfo,
          ssl,
          Duration.ofMillis(config.getInt(SchemaRegistryClientConfig.HTTP_CONNECT_TIMEOUT_MS)),
          Duration.ofMillis(config.getInt(SchemaRegistryClientConfig.HTTP_READ_TIMEOUT_MS)),
          bearer);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static String password(AbstractConfig config, String name) {
    Password p = config.getPassword(name);
    return p == null ? "" : p.value();
  }

  private static URI parseUrl(String raw) {
    try {
      URI uri = new URI(raw.endsWith("/") ? raw.substring(0, raw.length() - 1) : raw);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new ConfigException(
            SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
            raw,
            "expected http://host:port or https://host:port");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new ConfigException(
          SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
          raw,
          "not a URL: " + e.getMessage());
    }
  }

  private static URI stripUserInfo(URI uri) {
    try {
      return new URI(
          uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null, null);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Builds an SSLContext from the schema.registry.ssl.* settings with Kafka's own SSL factory (so
   * key and trust stores behave as for a Kafka client), or returns null when neither store is
   * configured.
   */
  private static SSLContext sslContext(Map<String, ?> configs) {
    Map<String, Object> ssl = new HashMap<>();
    configs.forEach(
        (k, v) -> {
          if (k.startsWith(SchemaRegistryClientConfig.CLIENT_NAMESPACE + "ssl.")) {
            ssl.put(k.substring(SchemaRegistryClientConfig.CLIENT_NAMESPACE.length()), v);
          }
        });
    boolean anyStore =
        ssl.get(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG) != null
            || ssl.get(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG) != null
            || ssl.get(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG) != null
            || ssl.get(SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG) != null;
    if (!anyStore) {
      return null;
    }
    Map<String, ?> parsed =
        new AbstractConfig(new ConfigDef().withClientSslSupport(), ssl, false).values();
    DefaultSslEngineFactory factory = new DefaultSslEngineFactory();
    try {
      factory.configure(parsed);
      return factory.sslContext();
    } catch (RuntimeException e) {
      throw new ConfigException(
          "cannot build TLS settings from "
              + SchemaRegistryClientConfig.CLIENT_NAMESPACE
              + "ssl.* (truststore "
              + ssl.get(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG)
              + ", keystore "
              + ssl.get(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG)
              + "): "
              + e.getMessage());
    }
  }

  @Override
  public String toString() {
    // No credentials in logs.
    return "RegistryClientConfig[baseUrls="
        + baseUrls
        + ", basicAuth="
        + (basicAuthUserInfo != null)
        + ", bearer="
        + (bearerToken != null)
        + ", tls="
        + (sslContext != null)
        + ", connectTimeout="
        + connectTimeout
        + ", requestTimeout="
        + requestTimeout
        + "]";
  }
}
