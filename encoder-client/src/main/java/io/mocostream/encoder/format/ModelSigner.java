package io.mocostream.encoder.format;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import org.apache.avro.generic.IndexedRecord;

/**
 * One Ed25519 key pair that signs encoder versions. Obtain it from {@link ModelSigning}.
 * Thread-safe.
 */
public final class ModelSigner {
  private final KeyPair pair;
  private final String keyId;

  ModelSigner(KeyPair pair) {
    if (!ModelSigning.ALGORITHM.equalsIgnoreCase(pair.getPublic().getAlgorithm())
        && !"EdDSA".equalsIgnoreCase(pair.getPublic().getAlgorithm())) {
      throw new IllegalArgumentException(
          "signing keys are "
              + ModelSigning.ALGORITHM
              + ", not "
              + pair.getPublic().getAlgorithm());
    }
    this.pair = pair;
    this.keyId = ModelSigning.keyId(pair.getPublic());
  }

  /** Id manifests carry in {@code keyId}, see {@link ModelSigning#keyId}. */
  public String keyId() {
    return keyId;
  }

  public PublicKey publicKey() {
    return pair.getPublic();
  }

  KeyPair keyPair() {
    return pair;
  }

  /** Ed25519 signature of {@code data}. */
  public byte[] sign(byte[] data) {
    return ModelSigning.sign(pair.getPrivate(), data);
  }

  /**
   * Signature of a manifest's {@link SigningInput}. The manifest's {@code keyId} must already be
   * this key's id (the signature covers it); its {@code signature} field is ignored.
   */
  public byte[] signManifest(IndexedRecord manifest) {
    return sign(SigningInput.of(manifest));
  }

  /**
   * Signature of any record with {@code keyId} and {@code signature} fields under {@code domain}
   * (see {@link SigningInput#of(String, IndexedRecord)}): the domain keeps it from verifying as a
   * manifest's.
   */
  public byte[] signRecord(String domain, IndexedRecord record) {
    return sign(SigningInput.of(domain, record));
  }

  /** Writes the public key as a PEM file that subscribers can trust. */
  public void exportPublicKey(Path file) {
    ModelSigning.writePublicKey(pair.getPublic(), file);
  }

  /** A trust set holding just this key (tests, single-process tools). */
  public TrustedKeys trustedKeys() {
    return TrustedKeys.of(pair.getPublic());
  }

  @Override
  public String toString() {
    return "ModelSigner[" + ModelSigning.ALGORITHM + " key " + keyId + "]";
  }
}
