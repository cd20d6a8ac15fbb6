package io.mocostream.encoder.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ed25519 keys for signing encoder versions, with the JDK's own provider (no extra library needed
 * since Java 15).
 *
 * <p>Key files are PEM, as OpenSSL writes them: the private key PKCS#8 ({@code -----BEGIN PRIVATE
 * KEY-----}), the public key X.509 SubjectPublicKeyInfo ({@code -----BEGIN PUBLIC KEY-----}).
 * {@code openssl pkey -in model-signing.key -pubout} prints the same public key. A key's id ({@link
 * #keyId}) is the first 16 hex digits of the SHA-256 of its X.509 encoding.
 */
public final class ModelSigning {
  /** JDK algorithm name for key generation, key factories and signatures. */
  public static final String ALGORITHM = "Ed25519";

  /** File name of the private key inside a key directory (owner-only permissions). */
  public static final String PRIVATE_KEY_FILE = "model-signing.key";

  /** File name of the public key inside a key directory: the file subscribers trust. */
  public static final String PUBLIC_KEY_FILE = "model-signing.pub";

  /**
   * Where tools keep the signing key unless told otherwise: {@code keys} in the working directory,
   * where {@code mocostream train} writes it. One default for the trainer, the CLI and the library.
   */
  public static final Path DEFAULT_KEY_DIR = Path.of("keys");

  /**
   * The file subscribers trust unless told otherwise: {@code keys/model-signing.pub}, the trainer's
   * public key.
   */
  public static final Path DEFAULT_TRUST = DEFAULT_KEY_DIR.resolve(PUBLIC_KEY_FILE);

  /** Hex digits of a key id. */
  public static final int KEY_ID_HEX_DIGITS = 16;

  private static final Logger log = LoggerFactory.getLogger(ModelSigning.class);
  private static final Pattern PEM_BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");

  private ModelSigning() {}

  /** A fresh key pair held in memory only (tests, throw-away runs). */
  public static ModelSigner generate() {
    try {
      return new ModelSigner(KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(
          "this JDK has no " + ALGORITHM + " (Java 15 or newer needed)", e);
    }
  }

  /**
   * The signing key kept in {@code dir}: loaded when {@link #PRIVATE_KEY_FILE} exists, else
   * generated and written there (private key readable by the owner only, public key next to it for
   * others to trust). Concurrent first uses agree on one key: files are written under temporary
   * names and moved into place atomically, and the loser of the race loads the winner's key.
   */
  public static ModelSigner loadOrCreate(Path dir) {
    Path privateFile = dir.resolve(PRIVATE_KEY_FILE);
    Path publicFile = dir.resolve(PUBLIC_KEY_FILE);
    if (!Files.exists(privateFile)) {
      create(dir, privateFile, publicFile);
    }
    return load(privateFile, publicFile);
  }

  /** Loads a key pair from its two PEM files, checking that they belong together. */
  public static ModelSigner load(Path privateFile, Path publicFile) {
    warnIfReadableByOthers(privateFile);
    if (!Files.exists(publicFile)) {
      waitBriefly(publicFile); // another process may be between its two moves in create()
    }
    if (!Files.exists(publicFile)) {
      throw new IllegalStateException(
          "private key "
              + privateFile
              + " has no public key "
              + publicFile
              + " next to it; restore it (openssl pkey -in "
              + privateFile
              + " -pubout -out "
              + publicFile
              + ")");
    }
    KeyPair pair = new KeyPair(readPublicKey(publicFile), readPrivateKey(privateFile));
    byte[] probe = "mocostream key pair check".getBytes(StandardCharsets.US_ASCII);
    if (!verify(pair.getPublic(), probe, sign(pair.getPrivate(), probe))) {
      throw new IllegalStateException(
          "private key " + privateFile + " and public key " + publicFile + " are not one key pair");
    }
    return new ModelSigner(pair);
  }

  /**
   * Key id of {@code key}: first {@value #KEY_ID_HEX_DIGITS} hex digits of SHA-256 of its X.509
   * encoding.
   */
  public static String keyId(PublicKey key) {
    return Sha256.toHex(Sha256.newDigest().digest(key.getEncoded()))
        .substring(0, KEY_ID_HEX_DIGITS);
  }

  /** Ed25519 signature of {@code data}. */
  public static byte[] sign(PrivateKey key, byte[] data) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(data);
      return s.sign();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
    } catch (InvalidKeyException | SignatureException e) {
      throw new IllegalArgumentException(
          "cannot sign with a " + key.getAlgorithm() + " key: " + e.getMessage(), e);
    }
  }

  /**
   * Whether {@code signature} is {@code key}'s Ed25519 signature of {@code data}; malformed
   * signatures are false.
   */
  public static boolean verify(PublicKey key, byte[] data, byte[] signature) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(data);
      return s.verify(signature);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(
          "not an " + ALGORITHM + " public key: " + key.getAlgorithm(), e);
    } catch (SignatureException e) {
      return false; // wrong length or encoding: not a signature by this key
    }
  }

  /** Reads the one public key of a PEM file. */
  public static PublicKey readPublicKey(Path file) {
    List<PublicKey> keys = readPublicKeys(file);
    if (keys.size() != 1) {
      throw new IllegalArgumentException(
          file + " holds " + keys.size() + " public keys, expected one");
    }
    return keys.get(0);
  }

  /** Reads every {@code PUBLIC KEY} block of a PEM file (a file may list several trusted keys). */
  public static List<PublicKey> readPublicKeys(Path file) {
    List<PublicKey> keys = new ArrayList<>();
    for (byte[] der : pemBlocks(file, "PUBLIC KEY")) {
      try {
        keys.add(keyFactory().generatePublic(new X509EncodedKeySpec(der)));
      } catch (InvalidKeySpecException e) {
        throw new IllegalArgumentException(
            file + " holds a public key that is not " + ALGORITHM + ": " + e.getMessage(), e);
      }
    }
    return keys;
  }

  /** Reads the PKCS#8 private key of a PEM file. */
  public static PrivateKey readPrivateKey(Path file) {
    List<byte[]> blocks = pemBlocks(file, "PRIVATE KEY");
    if (blocks.size() != 1) {
      throw new IllegalArgumentException(
          file + " holds " + blocks.size() + " PRIVATE KEY blocks, expected one");
    }
    try {
      return keyFactory().generatePrivate(new PKCS8EncodedKeySpec(blocks.get(0)));
    } catch (InvalidKeySpecException e) {
      throw new IllegalArgumentException(
          file + " holds a private key that is not " + ALGORITHM + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code key} as a PEM public key file (readable by everyone: it is meant to be shared).
   */
  public static void writePublicKey(PublicKey key, Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempFile(parent, ".pub-", ".tmp");
      Files.writeString(tmp, pem("PUBLIC KEY", key.getEncoded()), StandardCharsets.US_ASCII);
      moveAtomically(tmp, file, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write public key " + file, e);
    }
  }

  /**
   * PEM text of a DER encoding: base64 in 64-character lines between BEGIN/END lines, as OpenSSL
   * writes it.
   */
  static String pem(String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  /** DER contents of every {@code type} block of a PEM file; other blocks are skipped. */
  static List<byte[]> pemBlocks(Path file, String type) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read key file " + file, e);
    }
    List<byte[]> blocks = new ArrayList<>();
    Matcher m = PEM_BLOCK.matcher(text);
    while (m.find()) {
      if (m.group(1).equals(type)) {
        try {
          blocks.add(Base64.getMimeDecoder().decode(m.group(2)));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              file + " has a " + type + " block that is not base64: " + e.getMessage(), e);
        }
      }
    }
    return blocks;
  }

  /** Whether a PEM file holds a block of {@code type}. */
  static boolean hasBlock(Path file, String type) {
    return !pemBlocks(file, type).isEmpty();
  }

  private static void create(Path dir, Path privateFile, Path publicFile) {
    KeyPair pair = generate().keyPair();
    try {
      boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
      if (!Files.isDirectory(dir)) {
        if (posix) {
          Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
        } else {
          Files.createDirectories(dir);
        }
      }
      // Created with owner-only permissions from the start: no window in which others could read
      // the key.
      FileAttribute<?>[] attrs =
          posix
              ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE)}
              : new FileAttribute<?>[0];
      Path privateTmp = Files.createTempFile(dir, ".key-", ".tmp", attrs);
      Path publicTmp = Files.createTempFile(dir, ".pub-", ".tmp");
      try {
        Files.writeString(
            privateTmp,
            pem("PRIVATE KEY", pair.getPrivate().getEncoded()),
            StandardCharsets.US_ASCII);
        Files.writeString(
            publicTmp, pem("PUBLIC KEY", pair.getPublic().getEncoded()), StandardCharsets.US_ASCII);
        if (posix) {
          Files.setPosixFilePermissions(publicTmp, PosixFilePermissions.fromString("rw-r--r--"));
        }
        try {
          moveAtomically(privateTmp, privateFile, false);
        } catch (FileAlreadyExistsException raced) {
          log.info("another process created signing key {} first; using it", privateFile);
          return;
        }
        moveAtomically(publicTmp, publicFile, true);
        log.info(
            "created Ed25519 signing key {} (key id {}); trust {}",
            privateFile,
            keyId(pair.getPublic()),
            publicFile);
      } finally {
        Files.deleteIfExists(privateTmp);
        Files.deleteIfExists(publicTmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create signing key in " + dir, e);
    }
  }

  /**
   * Moves a finished temporary file into place; without {@code replace} an existing target wins.
   */
  private static void moveAtomically(Path from, Path to, boolean replace) throws IOException {
    try {
      if (replace) {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        // Files.move with ATOMIC_MOVE may replace silently on POSIX (rename(2)); a hard link fails
        // if the target
        // exists, which is the "first writer wins" the key needs.
        try {
          Files.createLink(to, from);
        } catch (UnsupportedOperationException e) {
          if (Files.exists(to)) {
            throw new FileAlreadyExistsException(to.toString());
          }
          Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.deleteIfExists(from);
      }
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(
          from,
          to,
          replace
              ? new StandardCopyOption[] {StandardCopyOption.REPLACE_EXISTING}
              : new StandardCopyOption[0]);
    }
  }

  private static void warnIfReadableByOthers(Path privateFile) {
    try {
      if (privateFile.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(privateFile);
        perms.retainAll(
            Set.of(
                PosixFilePermission.GROUP_READ,
                PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.OTHERS_WRITE));
        if (!perms.isEmpty()) {
          // A warning, not a refusal: mounted secrets (Kubernetes, Docker) often come with 0644.
          log.warn("private key {} is accessible to others ({}); chmod 600 it", privateFile, perms);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read private key " + privateFile, e);
    }
  }

  private static void waitBriefly(Path file) {
    for (int i = 0; i < 20 && !Files.exists(file); i++) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static KeyFactory keyFactory() {
    try {
      return KeyFactory.getInstance(ALGORITHM);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no " + ALGORITHM, e);
    }
  }
}
