package io.mocostream.serving.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.serving.TestModels;
import io.mocostream.serving.http.ServeCommand;
import io.mocostream.serving.http.ServeOptions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: whoever can write a trust path chooses which models a service loads. A trust directory
 * trusted every {@code *.pub} in it, so a key dropped there was trusted; a group- or world-writable
 * key file (or directory) could be rewritten. Attacks: plant a key in the trust directory; make the
 * trust file, its directory, or the directory of a symlink's target writable by others; then start
 * {@code serve} on it. Defence: serve refuses to start, with an error naming the path and the fix;
 * a proper file still works. One default everywhere: the trainer's {@code keys/model-signing.pub}.
 */
@ExtendWith(KafkaClusterExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrustPathAttackTest {
  private KafkaCluster cluster;
  private TestModels models;
  private Path dir;

  @BeforeAll
  void setUp(KafkaCluster cluster, @TempDir Path tempDir) {
    this.cluster = cluster;
    this.dir = tempDir;
    models = new TestModels(cluster, "trust", tempDir);
    models.publish(AttackedService.MODEL, 1);
  }

  @AfterAll
  void tearDown() {
    if (models != null) {
      models.close();
    }
  }

  private ServeOptions trusting(Path trust) {
    return ServeOptions.defaults(
            cluster.bootstrapServers(), cluster.registryUrl(), AttackedService.MODEL)
        .withModelTopic(models.topic, trust)
        .withListen("127.0.0.1", 0);
  }

  private String refusal(Path trust) {
    return assertThrows(
            IllegalArgumentException.class, () -> ServeCommand.start(trusting(trust)).close())
        .getMessage();
  }

  /**
   * A directory with the owner-only permissions a key directory should have, holding a copy of the
   * real key.
   */
  private Path keyDir(String name, String perms) throws Exception {
    Path d = Files.createDirectory(dir.resolve(name));
    Path pub = Files.copy(models.trustFile, d.resolve(ModelSigning.PUBLIC_KEY_FILE));
    Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(perms));
    return d;
  }

  @Test
  void aKeyPlantedInATrustDirectoryIsNeverTrusted() throws Exception {
    Path keys = keyDir("keys-dir", "rwxr-xr-x");
    ModelSigning.generate().exportPublicKey(keys.resolve("attacker.pub"));
    String why = refusal(keys);
    assertTrue(
        why.contains(keys + " is a directory") && why.contains(ModelSigning.PUBLIC_KEY_FILE), why);
  }

  @Test
  void aWorldWritableTrustFileIsRefused() throws Exception {
    Path keys = keyDir("keys-file", "rwxr-xr-x");
    Path pub = keys.resolve(ModelSigning.PUBLIC_KEY_FILE);
    Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rw-rw-rw-"));
    String why = refusal(pub);
    assertTrue(
        why.contains(pub.toString())
            && why.contains("writable by everyone")
            && why.contains("chmod go-w"),
        why);
  }

  @Test
  void aGroupWritableTrustDirectoryIsRefused() throws Exception {
    Path keys = keyDir("keys-group", "rwxrwxr-x");
    String why = refusal(keys.resolve(ModelSigning.PUBLIC_KEY_FILE));
    assertTrue(why.contains("the directory " + keys) && why.contains("writable by its group"), why);
  }

  @Test
  void aSymlinkIntoAWorldWritableDirectoryIsRefused() throws Exception {
    Path shared = keyDir("shared-tmp", "rwxrwxrwx");
    Path safe = keyDir("safe", "rwxr-xr-x");
    Path link =
        Files.createSymbolicLink(
            safe.resolve("linked.pub"), shared.resolve(ModelSigning.PUBLIC_KEY_FILE));
    String why = refusal(link);
    assertTrue(
        why.contains("the directory " + shared.toRealPath())
            && why.contains("writable by everyone"),
        why);
  }

  @Test
  void aProperTrustFileServesAndTheDefaultIsTheTrainersPublicKey() throws Exception {
    Path keys = keyDir("keys-ok", "rwx------");
    try (ServeCommand.Running running =
        ServeCommand.start(trusting(keys.resolve(ModelSigning.PUBLIC_KEY_FILE)))) {
      assertTrue(
          running.encoder().awaitReady(Duration.ofSeconds(60)),
          "version 1 served under a proper trust file");
    }
    // `mocostream train` writes keys/model-signing.pub (its --keys-dir default is "keys"); serve
    // trusts that file.
    assertEquals(
        Path.of("keys", "model-signing.pub"),
        ServeOptions.defaults("b:9092", "http://r", "m").trust());
  }
}
