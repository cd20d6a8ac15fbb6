package io.mocostream.registry.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientSettingsTest {

  @Test
  void oneFileSplitsIntoKafkaAndRegistrySettings(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(
        file,
        """
        security.protocol=SASL_SSL
        sasl.mechanism=SCRAM-SHA-512
        sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="trainer" password="x";
        linger.ms=7
        basic.auth.credentials.source=USER_INFO
        basic.auth.user.info=reg:secret
        """);
    ClientSettings s = ClientSettings.load(file);
    assertEquals(
        Set.of("security.protocol", "sasl.mechanism", "sasl.jaas.config", "linger.ms"),
        s.kafka().keySet());
    assertEquals(
        Set.of("basic.auth.credentials.source", "basic.auth.user.info"), s.registry().keySet());
    assertEquals("User:trainer", s.principal());

    // Laid over the command's own settings; each client gets the keys it knows.
    Map<String, Object> producer = s.producer(Map.of("linger.ms", 20, "acks", "all"));
    assertEquals("7", producer.get("linger.ms"));
    assertEquals("all", producer.get("acks"));
    assertEquals("reg:secret", producer.get("basic.auth.user.info"));
    Map<String, Object> admin = s.admin(Map.of("bootstrap.servers", "h:1"));
    assertEquals("SASL_SSL", admin.get("security.protocol"));
    assertFalse(admin.containsKey("linger.ms"));
    assertFalse(admin.containsKey("basic.auth.user.info"));

    RegistryClientConfig registry = s.registryClient("http://127.0.0.1:1");
    assertEquals("reg:secret", registry.basicAuthUserInfo());
    assertFalse(s.toString().contains("secret"), s.toString());
  }

  @Test
  void bearerTokenAndItsConflictWithBasicAuth() {
    ClientSettings bearer =
        ClientSettings.of(
            Map.of("bearer.auth.credentials.source", "STATIC_TOKEN", "bearer.auth.token", "tok"));
    assertEquals("tok", bearer.registryClient("http://127.0.0.1:1").bearerToken());
    ClientSettings both =
        bearer.with(
            ClientSettings.of(
                Map.of(
                    "basic.auth.credentials.source", "USER_INFO", "basic.auth.user.info", "a:b")));
    assertThrows(ConfigException.class, () -> both.registryClient("http://127.0.0.1:1"));
    ClientSettings empty =
        ClientSettings.of(Map.of("bearer.auth.credentials.source", "STATIC_TOKEN"));
    assertThrows(ConfigException.class, () -> empty.registryClient("http://127.0.0.1:1"));
  }

  @Test
  void authorizationFailuresNameThePrincipalAndTheAcl() {
    ClientSettings s =
        ClientSettings.of(
            Map.of(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"producer\" password=\"p\";"));
    ExecutionException topic =
        new ExecutionException(new TopicAuthorizationException(Set.of("encoder.versions")));
    assertTrue(
        s.denied(topic, "WRITE", "?")
            .startsWith("principal User:producer lacks WRITE on topic encoder.versions"));
    assertTrue(
        s.denied(new GroupAuthorizationException("no", "g1"), "WRITE", "?")
            .startsWith("principal User:producer lacks READ on group g1"));
    assertNull(s.denied(new IllegalStateException("other"), "WRITE", "?"));
  }
}
