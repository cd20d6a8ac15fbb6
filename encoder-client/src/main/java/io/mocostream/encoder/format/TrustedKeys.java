package io.mocostream.encoder.format;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The public keys whose encoder versions a subscriber accepts, looked up by key id. Immutable. */
public final class TrustedKeys {
  /** Outcome of checking a manifest's signature. */
  public enum Verdict {
    VALID,
    /** The manifest's {@code keyId} is not in this set. */
    UNKNOWN_KEY,
    /** The key is trusted but the signature does not match the manifest. */
    BAD_SIGNATURE
  }

  private static final Logger log = LoggerFactory.getLogger(TrustedKeys.class);

  private final Map<String, PublicKey> byId;

  private TrustedKeys(Map<String, PublicKey> byId) {
    this.byId = Map.copyOf(byId);
  }

  public static TrustedKeys of(PublicKey... keys) {
    return of(List.of(keys));
  }

  public static TrustedKeys of(Collection<PublicKey> keys) {
    Map<String, PublicKey> byId = new LinkedHashMap<>();
    for (PublicKey k : keys) {
      byId.put(ModelSigning.keyId(k), k);
    }
    return new TrustedKeys(byId);
  }

  /**
   * Loads public keys from explicit PEM files, each holding at least one {@code PUBLIC KEY} block
   * (one file may list several keys). A directory is refused, as is a file that it or its directory
   * lets the group or others write ({@link TrustPaths}): either would let someone else choose what
   * is trusted. Finding no key at all is an error: a subscriber that trusts nobody would refuse
   * every version.
   */
  public static TrustedKeys load(Collection<Path> paths) {
    List<PublicKey> keys = new ArrayList<>();
    for (Path p : paths) {
      TrustPaths.check(p);
      List<PublicKey> found = ModelSigning.readPublicKeys(p);
      if (found.isEmpty()) {
        throw new IllegalArgumentException("trusted key file " + p + " holds no PUBLIC KEY block");
      }
      keys.addAll(found);
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no public keys found in " + paths);
    }
    TrustedKeys trusted = of(keys);
    log.info(
        "trusting {} model signing key(s) {} from {}", trusted.size(), trusted.keyIds(), paths);
    return trusted;
  }

  public static TrustedKeys load(Path... paths) {
    return load(List.of(paths));
  }

  public Optional<PublicKey> find(String keyId) {
    return Optional.ofNullable(byId.get(keyId));
  }

  public Set<String> keyIds() {
    return byId.keySet();
  }

  public int size() {
    return byId.size();
  }

  /**
   * Checks the signature of a manifest (generated {@code EncoderVersion} or a generic record read
   * with the writer's schema) against the trusted key its {@code keyId} names. Never throws on what
   * a record holds: a record without usable {@code keyId}/{@code signature} fields is {@link
   * Verdict#UNKNOWN_KEY} or {@link Verdict#BAD_SIGNATURE}.
   */
  public Verdict verify(IndexedRecord manifest) {
    return verify(SigningInput.MANIFEST_DOMAIN, manifest);
  }

  /**
   * {@link #verify(IndexedRecord)} for a record signed under {@code domain} (see {@link
   * SigningInput#of(String, IndexedRecord)}).
   */
  public Verdict verify(String domain, IndexedRecord record) {
    Schema schema = record.getSchema();
    Schema.Field keyField = schema.getField("keyId");
    Schema.Field sigField = schema.getField(SigningInput.SIGNATURE_FIELD);
    Object keyId = keyField == null ? null : record.get(keyField.pos());
    PublicKey key = keyId instanceof CharSequence k ? byId.get(k.toString()) : null;
    if (key == null) {
      return Verdict.UNKNOWN_KEY;
    }
    if (sigField == null || !(record.get(sigField.pos()) instanceof ByteBuffer sigBuffer)) {
      return Verdict.BAD_SIGNATURE;
    }
    ByteBuffer sig = sigBuffer.duplicate();
    byte[] signature = new byte[sig.remaining()];
    sig.get(signature);
    byte[] input;
    try {
      input = SigningInput.of(domain, record);
    } catch (RuntimeException e) {
      return Verdict
          .BAD_SIGNATURE; // values that do not encode under their own schema: not what was signed
    }
    return ModelSigning.verify(key, input, signature) ? Verdict.VALID : Verdict.BAD_SIGNATURE;
  }

  @Override
  public String toString() {
    return "TrustedKeys" + byId.keySet();
  }
}
