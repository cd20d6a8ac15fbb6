package io.mocostream.encoder.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
  @TempDir Path dir;

  @Test
  void firstUseCreatesAnOwnerOnlyPrivateKeyAndAPemPublicKey() throws Exception {
    Path keys = dir.resolve("keys");
    ModelSigner created = ModelSigning.loadOrCreate(keys);
    Path priv = keys.resolve(ModelSigning.PRIVATE_KEY_FILE);
    Path pub = keys.resolve(ModelSigning.PUBLIC_KEY_FILE);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)));
    String privText = Files.readString(priv);
    String pubText = Files.readString(pub);
    assertTrue(privText.startsWith("-----BEGIN PRIVATE KEY-----\n"), privText);
    assertTrue(
        pubText.startsWith("-----BEGIN PUBLIC KEY-----\n")
            && pubText.endsWith("-----END PUBLIC KEY-----\n"));
    try (var files = Files.list(keys)) {
      assertEquals(2, files.count(), "no temporary files left behind");
    }

    ModelSigner loaded = ModelSigning.loadOrCreate(keys);
    assertEquals(created.keyId(), loaded.keyId());
    assertArrayEquals(created.publicKey().getEncoded(), loaded.publicKey().getEncoded());
    byte[] data = "weights".getBytes(StandardCharsets.US_ASCII);
    assertTrue(
        ModelSigning.verify(created.publicKey(), data, loaded.sign(data)),
        "the loaded private key signs");
  }

  @Test
  void trustedKeysLoadFromExplicitFilesAndBundles() throws Exception {
    ModelSigner a = ModelSigning.loadOrCreate(dir.resolve("a"));
    ModelSigner b = ModelSigning.generate();
    b.exportPublicKey(dir.resolve("trust/b.pub"));

    TrustedKeys one = TrustedKeys.load(dir.resolve("a").resolve(ModelSigning.PUBLIC_KEY_FILE));
    assertEquals(List.copyOf(one.keyIds()), List.of(a.keyId()));
    TrustedKeys both =
        TrustedKeys.load(
            dir.resolve("a").resolve(ModelSigning.PUBLIC_KEY_FILE), dir.resolve("trust/b.pub"));
    assertEquals(2, both.size());
    assertTrue(both.find(a.keyId()).isPresent() && both.find(b.keyId()).isPresent());
    assertTrue(both.find("0000000000000000").isEmpty());
    // One file may list several keys: the way to trust a set without trusting a directory.
    Path bundle =
        Files.writeString(
            dir.resolve("bundle.pem"),
            Files.readString(dir.resolve("a").resolve(ModelSigning.PUBLIC_KEY_FILE))
                + Files.readString(dir.resolve("trust/b.pub")));
    assertEquals(both.keyIds(), TrustedKeys.load(bundle).keyIds());
  }

  @Test
  void badTrustPathsAreErrorsNamingThePath() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    IllegalArgumentException none =
        assertThrows(IllegalArgumentException.class, () -> TrustedKeys.load(empty));
    assertTrue(none.getMessage().contains(empty.toString()), none.getMessage());
    Path missing = dir.resolve("nope.pub");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> TrustedKeys.load(missing))
            .getMessage()
            .contains(missing.toString()));
    Path junk = Files.writeString(dir.resolve("junk.pub"), "hello");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> TrustedKeys.load(junk))
            .getMessage()
            .contains(junk.toString()));
  }

  @Test
  void mismatchedKeyFilesAreRefused() throws Exception {
    ModelSigning.loadOrCreate(dir.resolve("k"));
    ModelSigning.generate().exportPublicKey(dir.resolve("k").resolve(ModelSigning.PUBLIC_KEY_FILE));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> ModelSigning.loadOrCreate(dir.resolve("k")));
    assertTrue(e.getMessage().contains("not one key pair"), e.getMessage());
  }

  @Test
  void rsaKeysAreNotEd25519() throws Exception {
    var rsa = java.security.KeyPairGenerator.getInstance("RSA").generateKeyPair();
    Path file = dir.resolve("rsa.pub");
    Files.writeString(file, ModelSigning.pem("PUBLIC KEY", rsa.getPublic().getEncoded()));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelSigning.readPublicKey(file));
    assertTrue(e.getMessage().contains("not Ed25519"), e.getMessage());
  }

  @Test
  void opensslDerivesTheSamePublicKeyFromThePrivateKeyFile() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
    Path keys = dir.resolve("ossl");
    ModelSigning.loadOrCreate(keys);
    Process p =
        new ProcessBuilder(
                "/usr/bin/openssl",
                "pkey",
                "-in",
                keys.resolve(ModelSigning.PRIVATE_KEY_FILE).toString(),
                "-pubout")
            .redirectErrorStream(true)
            .start();
    String derived = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(Files.readString(keys.resolve(ModelSigning.PUBLIC_KEY_FILE)), derived);
  }
}
