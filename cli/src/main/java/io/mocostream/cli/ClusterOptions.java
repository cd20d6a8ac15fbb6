package io.mocostream.cli;

import io.mocostream.registry.client.ClientSettings;
import io.mocostream.registry.client.SchemaRegistryClientConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Where the broker and registry are and how to log in to them: the defaults are what {@code
 * mocostream up} prints. Every option has an environment variable, so a container sets them once
 * for any command.
 */
final class ClusterOptions {
  static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
  static final String DEFAULT_REGISTRY = "http://127.0.0.1:8081";

  @Option(
      names = "--bootstrap",
      paramLabel = "HOST:PORT",
      defaultValue = "${env:MOCOSTREAM_BOOTSTRAP:-" + DEFAULT_BOOTSTRAP + "}",
      description = "Kafka bootstrap servers (env MOCOSTREAM_BOOTSTRAP; default ${DEFAULT-VALUE}).")
  String bootstrap;

  @Option(
      names = "--registry",
      paramLabel = "URL",
      defaultValue = "${env:MOCOSTREAM_REGISTRY:-" + DEFAULT_REGISTRY + "}",
      description = "Schema registry URL (env MOCOSTREAM_REGISTRY; default ${DEFAULT-VALUE}).")
  String registry;

  @Option(
      names = "--client-config",
      paramLabel = "FILE",
      defaultValue = "${env:MOCOSTREAM_CLIENT_CONFIG}",
      description =
          "Kafka client properties (security.protocol, sasl.*, ssl.*, ...) laid over this command's own, "
              + "for all its clients; registry settings (basic.auth.*, bearer.auth.*, schema.registry.ssl.*) may be in "
              + "it too (env MOCOSTREAM_CLIENT_CONFIG).")
  Path clientConfig;

  @Option(
      names = "--registry-auth",
      paramLabel = "USER:PASSWORD",
      defaultValue = "${env:MOCOSTREAM_REGISTRY_AUTH}",
      description =
          "Registry basic auth (env MOCOSTREAM_REGISTRY_AUTH, which keeps it out of the process list).")
  String registryAuth;

  @Option(
      names = "--registry-token",
      paramLabel = "TOKEN",
      defaultValue = "${env:MOCOSTREAM_REGISTRY_TOKEN}",
      description = "Registry bearer token (env MOCOSTREAM_REGISTRY_TOKEN).")
  String registryToken;

  @Option(
      names = "--registry-truststore",
      paramLabel = "FILE",
      defaultValue = "${env:MOCOSTREAM_REGISTRY_TRUSTSTORE}",
      description =
          "Trust store (JKS, PKCS12 .p12 or PEM .pem) for an https registry "
              + "(env MOCOSTREAM_REGISTRY_TRUSTSTORE; password in MOCOSTREAM_REGISTRY_TRUSTSTORE_PASSWORD).")
  Path registryTruststore;

  @Option(
      names = "--registry-keystore",
      paramLabel = "FILE",
      defaultValue = "${env:MOCOSTREAM_REGISTRY_KEYSTORE}",
      description =
          "Client key store for a registry that asks for TLS client certificates "
              + "(env MOCOSTREAM_REGISTRY_KEYSTORE; password in MOCOSTREAM_REGISTRY_KEYSTORE_PASSWORD).")
  Path registryKeystore;

  /**
   * The client settings of this command: the file's, with the registry options laid over. Where the
   * broker and the registry are comes from --bootstrap and --registry only (a file's
   * bootstrap.servers and schema.registry.url are dropped), so that every check and message of a
   * command names the address its clients use.
   */
  ClientSettings clients() {
    ClientSettings file = ClientSettings.NONE;
    if (clientConfig != null) {
      ClientSettings loaded = ClientSettings.load(clientConfig);
      Map<String, String> kafka = new HashMap<>(loaded.kafka());
      kafka.remove("bootstrap.servers");
      Map<String, String> registry = new HashMap<>(loaded.registry());
      registry.remove(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG);
      file = new ClientSettings(kafka, registry);
    }
    Map<String, String> r = new HashMap<>();
    if (registryAuth != null && !registryAuth.isBlank()) {
      r.put(
          SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE,
          SchemaRegistryClientConfig.CREDENTIALS_SOURCE_USER_INFO);
      r.put(SchemaRegistryClientConfig.USER_INFO_CONFIG, registryAuth);
    }
    if (registryToken != null && !registryToken.isBlank()) {
      r.put(
          SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE,
          SchemaRegistryClientConfig.CREDENTIALS_SOURCE_STATIC_TOKEN);
      r.put(SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG, registryToken);
    }
    store(
        r,
        "truststore",
        registryTruststore,
        System.getenv("MOCOSTREAM_REGISTRY_TRUSTSTORE_PASSWORD"));
    store(r, "keystore", registryKeystore, System.getenv("MOCOSTREAM_REGISTRY_KEYSTORE_PASSWORD"));
    return file.with(new ClientSettings(Map.of(), r));
  }

  /**
   * The client settings as producer configs (strings), for options types that carry producer
   * overrides.
   */
  Map<String, String> producerProps() {
    Map<String, String> m = new HashMap<>();
    clients().producer(Map.of()).forEach((k, v) -> m.put(k, String.valueOf(v)));
    return m;
  }

  private static void store(Map<String, String> r, String kind, Path file, String password) {
    if (file == null) {
      return;
    }
    String prefix = SchemaRegistryClientConfig.CLIENT_NAMESPACE + "ssl." + kind + ".";
    r.put(prefix + "location", file.toString());
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".p12") || name.endsWith(".pfx")) {
      r.put(prefix + "type", "PKCS12");
    } else if (name.endsWith(".pem")) {
      r.put(prefix + "type", "PEM");
    }
    if (password != null) {
      r.put(prefix + "password", password);
    }
  }
}
