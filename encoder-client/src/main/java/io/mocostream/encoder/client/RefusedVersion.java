package io.mocostream.encoder.client;

/**
 * An encoder version a subscriber did not accept, with the reason. Refused versions are reported,
 * never dropped silently.
 *
 * @param model model name
 * @param version version number as the manifest or chunks declare it
 * @param reason why it was refused
 * @param message what exactly was wrong, naming the model, version and chunk or key at fault
 * @param topic the model topic
 * @param partition partition it was read from
 * @param offset offset of the record that completed the judgement (usually the manifest)
 */
public record RefusedVersion(
    String model,
    long version,
    Reason reason,
    String message,
    String topic,
    int partition,
    long offset) {

  /**
   * The message may quote what a record said (key ids, model names): kept printable, on one line.
   */
  public RefusedVersion {
    message = io.mocostream.encoder.format.Untrusted.text(message, 2048);
  }

  /** Why a version was refused. */
  public enum Reason {
    /** The reassembled payload does not have the manifest's SHA-256: a chunk was altered. */
    SHA_MISMATCH,
    /**
     * The manifest's signature does not verify with the trusted key it names: the manifest was
     * altered.
     */
    BAD_SIGNATURE,
    /** The manifest names a key id that is not trusted. */
    UNKNOWN_KEY,
    /** Chunks of the version are missing. */
    MISSING_CHUNKS,
    /**
     * The records do not form a version: bad counts or sizes, duplicate or foreign chunks,
     * unreadable records, chunks without a manifest.
     */
    MALFORMED,
    /**
     * The version is verified but not newer than the last one this subscriber accepted (versions
     * are monotonic per model: an older or repeated version is a replay or a misconfigured
     * publisher, never an update).
     */
    NOT_NEWER,
    /**
     * Verified, but its payload does not load into the architecture its manifest declares (live
     * encoder).
     */
    UNLOADABLE,
    /**
     * Verified and loadable, but the consumer's swap policy (pin, quality gate) declined it (live
     * encoder).
     */
    POLICY,
    /**
     * Verified, but created longer ago than the subscriber's maximum age allows (a replay of an old
     * version).
     */
    STALE,
    /**
     * A record of the model that could not be handled at all (unreadable, a schema of another
     * shape).
     */
    UNREADABLE
  }
}
