package io.mocostream.registry.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against the real embedded registry: API, caches, auth, failover, TLS, and a registry
 * that is down.
 */
class SchemaRegistryClientTest {
  private static EmbeddedKafka kafka;
  private static EmbeddedSchemaRegistry registry;

  private static final Schema V1 =
      SchemaBuilder.record("Reading")
          .namespace("test.client")
          .fields()
          .requiredString("sensor")
          .requiredDouble("value")
          .endRecord();
  private static final Schema V2 =
      SchemaBuilder.record("Reading")
          .namespace("test.client")
          .fields()
          .requiredString("sensor")
          .requiredDouble("value")
          .name("unit")
          .type()
          .stringType()
          .stringDefault("C")
          .endRecord();
  private static final Schema V2_BREAKING =
      SchemaBuilder.record("Reading")
          .namespace("test.client")
          .fields()
          .requiredString("sensor")
          .requiredDouble("value")
          .requiredString("unit")
          .endRecord();

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.startTemporary();
    registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  private static SchemaRegistryClient client(String urls) {
    return SchemaRegistryClient.fromConfigs(Map.of("schema.registry.url", urls));
  }

  /** A port nothing listens on (bound, then released). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void fullApiAgainstTheRegistry() {
    try (SchemaRegistryClient client = client(registry.url())) {
      int id1 = client.register("cl-api-value", V1);
      assertEquals(id1, client.getId("cl-api-value", V1));
      assertEquals(V1, client.getById(id1));
      assertTrue(client.testCompatibility("cl-api-value", V2));
      assertFalse(client.testCompatibility("cl-api-value", V2_BREAKING));
      CompatibilityCheck check = client.checkCompatibility("cl-api-value", V2_BREAKING);
      assertFalse(check.compatible());
      assertTrue(
          check.messages().get(0).contains("READER_FIELD_MISSING_DEFAULT_VALUE"),
          check.messages().toString());

      int id2 = client.register("cl-api-value", V2);
      SchemaMetadata latest = client.getLatest("cl-api-value");
      assertEquals(new SchemaMetadata(id2, 2, "cl-api-value", V2.toString()), latest);
      assertEquals(
          new SchemaMetadata(id1, 1, "cl-api-value", V1.toString()),
          client.getVersion("cl-api-value", 1));
      assertEquals(1, client.lookup("cl-api-value", V1).version());
      assertEquals(List.of(1, 2), client.versions("cl-api-value"));
      assertTrue(client.subjects().contains("cl-api-value"));

      assertEquals("BACKWARD", client.getCompatibility(null));
      assertEquals(
          "BACKWARD", client.getCompatibility("cl-api-value"), "falls back to the global level");
      client.setCompatibility("cl-api-value", "full_transitive");
      assertEquals("FULL_TRANSITIVE", client.getCompatibility("cl-api-value"));
      assertThrows(
          IllegalArgumentException.class, () -> client.setCompatibility(null, "SOMETIMES"));

      assertEquals(List.of(1, 2), client.deleteSubject("cl-api-value"));
      assertFalse(client.subjects().contains("cl-api-value"));
      assertEquals(List.of(1, 2), client.deleteSubject("cl-api-value", true));
    }
  }

  @Test
  void errorsCarryStatusCodeUrlAndSubject() {
    try (SchemaRegistryClient client = client(registry.url())) {
      RegistryException missing =
          assertThrows(RegistryException.class, () -> client.getLatest("cl-err-nobody"));
      assertEquals(404, missing.status());
      assertEquals(40401, missing.errorCode());
      assertEquals("cl-err-nobody", missing.subject());
      assertTrue(missing.url().endsWith("/subjects/cl-err-nobody/versions/latest"), missing.url());
      assertTrue(
          missing.getMessage().contains("cl-err-nobody") && missing.getMessage().contains("40401"),
          missing.getMessage());
      assertFalse(missing.unreachable());

      RegistryException noId = assertThrows(RegistryException.class, () -> client.getById(424242));
      assertEquals(40403, noId.errorCode());

      client.register("cl-err-value", V1);
      RegistryException notRegistered =
          assertThrows(RegistryException.class, () -> client.getId("cl-err-value", V2));
      assertEquals(40403, notRegistered.errorCode());

      RegistryException incompatible =
          assertThrows(RegistryException.class, () -> client.register("cl-err-value", V2_BREAKING));
      assertEquals(409, incompatible.status());
      assertTrue(incompatible.getMessage().contains("incompatible"), incompatible.getMessage());
    }
  }

  @Test
  void cachesMeanOneRequestPerSchemaAndPerId() {
    try (SchemaRegistryClient writer = client(registry.url());
        SchemaRegistryClient reader = client(registry.url())) {
      long before = registry.requestCount();
      int id = writer.register("cl-cache-value", V1);
      assertEquals(before + 1, registry.requestCount());
      for (int i = 0; i < 100; i++) {
        assertEquals(id, writer.register("cl-cache-value", V1));
        assertEquals(id, writer.getId("cl-cache-value", V1));
        // An equal schema parsed anew hits the cache too: the cache compares schemas, not
        // instances.
        assertEquals(
            id, writer.register("cl-cache-value", new Schema.Parser().parse(V1.toString())));
      }
      assertEquals(
          before + 1,
          registry.requestCount(),
          "register/getId after the first are served from cache");

      assertEquals(V1, reader.getById(id));
      assertEquals(V1, reader.getById(id));
      assertEquals(before + 2, registry.requestCount(), "getById asks once per id");
      assertEquals(2, writer.requestCount() + reader.requestCount());

      // The cache is per subject: the same schema under another subject is a new registration.
      writer.register("cl-cache-other-value", V1);
      assertEquals(before + 3, registry.requestCount());
    }
  }

  @Test
  void basicAuthHeaderIsSent(@TempDir Path dir) throws Exception {
    try (EmbeddedSchemaRegistry secured =
        EmbeddedSchemaRegistry.builder(kafka.bootstrapServers())
            .topic("_schemas_auth")
            .basicAuth("alice", "s3cret:with-colon")
            .start()) {
      try (SchemaRegistryClient anonymous = client(secured.url())) {
        RegistryException e = assertThrows(RegistryException.class, anonymous::subjects);
        assertEquals(401, e.status());
      }
      Map<String, Object> userInfo =
          Map.of(
              "schema.registry.url",
              secured.url(),
              "basic.auth.credentials.source",
              "USER_INFO",
              "basic.auth.user.info",
              "alice:s3cret:with-colon");
      try (SchemaRegistryClient client = SchemaRegistryClient.fromConfigs(userInfo)) {
        assertTrue(client.register("cl-auth-value", V1) > 0);
      }
      String inUrl = secured.url().replace("http://", "http://alice:s3cret%3Awith-colon@");
      try (SchemaRegistryClient client = client(inUrl)) {
        assertEquals(
            List.of("cl-auth-value"),
            client.subjects(),
            "URL user info is the default credential source");
        assertFalse(
            client.config().baseUrls().get(0).toString().contains("alice"),
            "user info is not kept in URLs");
      }
      Map<String, Object> wrong = new HashMap<>(userInfo);
      wrong.put("basic.auth.user.info", "alice:guess");
      try (SchemaRegistryClient client = SchemaRegistryClient.fromConfigs(wrong)) {
        assertEquals(401, assertThrows(RegistryException.class, client::subjects).status());
      }
    }
  }

  @Test
  void failsOverToTheNextUrlAndStaysThere() throws Exception {
    String dead = "http://127.0.0.1:" + closedPort();
    try (SchemaRegistryClient client = client(dead + "," + registry.url())) {
      client.register("cl-failover-value", V1);
      assertEquals(2, client.requestCount(), "one failed connect, then the live URL");
      client.versions("cl-failover-value");
      assertEquals(3, client.requestCount(), "the URL that answered is tried first next time");
    }
  }

  @Test
  void aDownRegistryFailsFastWithTheUrlsTried() throws Exception {
    int port = closedPort();
    try (SchemaRegistryClient client = client("http://127.0.0.1:" + port)) {
      RegistryException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(20),
              () ->
                  assertThrows(
                      RegistryException.class, () -> client.register("cl-down-value", V1)));
      assertTrue(e.unreachable());
      assertEquals(RegistryException.NO_RESPONSE, e.status());
      assertTrue(
          e.getMessage().contains("unreachable")
              && e.getMessage().contains("127.0.0.1:" + port)
              && e.getMessage().contains("cl-down-value"),
          e.getMessage());
    }
  }

  @Test
  void aRegistryThatNeverAnswersTimesOut() throws Exception {
    // Accepts TCP connections (the kernel completes the handshake) but never reads or answers.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Map<String, Object> configs =
          Map.of(
              "schema.registry.url",
              "http://127.0.0.1:" + silent.getLocalPort(),
              "http.read.timeout.ms",
              300,
              "http.connect.timeout.ms",
              "300");
      try (SchemaRegistryClient client = SchemaRegistryClient.fromConfigs(configs)) {
        assertEquals(Duration.ofMillis(300), client.config().requestTimeout());
        long t0 = System.nanoTime();
        RegistryException e =
            assertTimeoutPreemptively(
                Duration.ofSeconds(20),
                () -> assertThrows(RegistryException.class, () -> client.getById(1)));
        assertTrue(e.unreachable());
        assertTrue(e.getMessage().contains("HttpTimeoutException"), e.getMessage());
        assertTrue(
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) >= 300, "waited for the timeout");
      }
    }
  }

  @Test
  void configsAreValidatedWithTheirNames() {
    ConfigException noUrl =
        assertThrows(ConfigException.class, () -> RegistryClientConfig.fromConfigs(Map.of()));
    assertTrue(noUrl.getMessage().contains("schema.registry.url"), noUrl.getMessage());
    ConfigException badUrl =
        assertThrows(ConfigException.class, () -> RegistryClientConfig.of("ftp://x:1"));
    assertTrue(badUrl.getMessage().contains("ftp://x:1"), badUrl.getMessage());
    ConfigException noUserInfo =
        assertThrows(
            ConfigException.class,
            () ->
                RegistryClientConfig.fromConfigs(
                    Map.of(
                        "schema.registry.url",
                        "http://a:1",
                        "basic.auth.credentials.source",
                        "USER_INFO")));
    assertTrue(noUserInfo.getMessage().contains("basic.auth.user.info"), noUserInfo.getMessage());
    ConfigException badSource =
        assertThrows(
            ConfigException.class,
            () ->
                RegistryClientConfig.fromConfigs(
                    Map.of(
                        "schema.registry.url",
                        "http://a:1",
                        "basic.auth.credentials.source",
                        "SASL_INHERIT")));
    assertTrue(
        badSource.getMessage().contains("basic.auth.credentials.source"), badSource.getMessage());
    ConfigException badTimeout =
        assertThrows(
            ConfigException.class,
            () ->
                RegistryClientConfig.fromConfigs(
                    Map.of(
                        "schema.registry.url", "http://a:1", "http.connect.timeout.ms", "soon")));
    assertTrue(
        badTimeout.getMessage().contains("http.connect.timeout.ms"), badTimeout.getMessage());
    ConfigException noStore =
        assertThrows(
            ConfigException.class,
            () ->
                RegistryClientConfig.fromConfigs(
                    Map.of(
                        "schema.registry.url",
                        "https://a:1",
                        "schema.registry.ssl.truststore.location",
                        "/no/such/truststore.jks",
                        "schema.registry.ssl.truststore.password",
                        "x")));
    assertTrue(noStore.getMessage().contains("/no/such/truststore.jks"), noStore.getMessage());

    RegistryClientConfig two = RegistryClientConfig.of(" http://a:1/ , http://b:2");
    assertEquals(
        List.of("http://a:1", "http://b:2"),
        two.baseUrls().stream().map(Object::toString).toList());
    assertEquals(
        Duration.ofMillis(SchemaRegistryClientConfig.HTTP_CONNECT_TIMEOUT_MS_DEFAULT),
        two.connectTimeout());
    assertFalse(two.toString().contains("null"));
  }

  @Test
  void tlsWithATruststoreFromConfigs(@TempDir Path dir) throws Exception {
    Path keystore = dir.resolve("registry.p12");
    Path truststore = dir.resolve("trust.p12");
    Path cert = dir.resolve("registry.pem");
    keytool(
        "-genkeypair",
        "-alias",
        "registry",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=127.0.0.1",
        "-ext",
        "SAN=ip:127.0.0.1",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        keystore.toString(),
        "-storepass",
        "changeit",
        "-keypass",
        "changeit");
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "registry",
        "-keystore",
        keystore.toString(),
        "-storepass",
        "changeit",
        "-file",
        cert.toString());
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "registry",
        "-file",
        cert.toString(),
        "-storetype",
        "PKCS12",
        "-keystore",
        truststore.toString(),
        "-storepass",
        "trustpass");

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(keystore.toFile())) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    SSLContext serverContext = SSLContext.getInstance("TLS");
    serverContext.init(kmf.getKeyManagers(), null, null);

    try (EmbeddedSchemaRegistry tls =
        EmbeddedSchemaRegistry.builder(kafka.bootstrapServers())
            .topic("_schemas_tls")
            .tls(serverContext)
            .start()) {
      assertTrue(tls.url().startsWith("https://127.0.0.1:"), tls.url());
      Map<String, Object> configs =
          Map.of(
              "schema.registry.url",
              tls.url(),
              "schema.registry.ssl.truststore.location",
              truststore.toString(),
              "schema.registry.ssl.truststore.password",
              "trustpass",
              "schema.registry.ssl.truststore.type",
              "PKCS12");
      try (SchemaRegistryClient client = SchemaRegistryClient.fromConfigs(configs)) {
        assertNotNull(client.config().sslContext());
        int id = client.register("cl-tls-value", V1);
        assertEquals(id, client.getLatest("cl-tls-value").id());
      }
      try (SchemaRegistryClient untrusting = client(tls.url())) {
        RegistryException e = assertThrows(RegistryException.class, untrusting::subjects);
        assertTrue(e.unreachable(), "a certificate the JDK does not trust fails the handshake");
        assertTrue(e.getMessage().contains("SSLHandshakeException"), e.getMessage());
      }
    }
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), () -> "keytool " + String.join(" ", args) + ": " + out);
  }
}
