package io.mocostream.encoder.client;

import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.format.ChunkCollector;
import io.mocostream.encoder.format.ChunkException;
import io.mocostream.encoder.format.EncoderRecords;
import io.mocostream.encoder.format.PayloadChunks;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.IndexedRecord;

/**
 * The subscriber's judgement, free of Kafka: fed the model topic's records of one model partition by partition in
 * offset order, it gathers each version's chunks and, at its manifest, accepts or refuses the version.
 *
 * <p>Per partition one version is in progress at a time: one transaction writes a version's chunks and then its
 * manifest, so a chunk of another version, or a manifest of another version, means the pending chunks never got
 * their manifest (a non-transactional writer that died); they are refused as MALFORMED rather than kept forever.
 * Not thread-safe.
 */
final class VersionAssembler {

  /** What a record led to. */
  sealed interface Outcome permits Accepted, Refused, Rewind {}

  record Accepted(VerifiedVersion version) implements Outcome {}

  record Refused(RefusedVersion refused) implements Outcome {}

  /** The newest-version start guessed the first chunk's offset too late: read the partition again from here. */
  record Rewind(int partition, long offset) implements Outcome {}

  private final String topic;
  private final String model;
  private final TrustedKeys trust;
  private final long maxPayloadBytes;
  private final Map<Integer, PartitionState> partitions = new HashMap<>();

  VersionAssembler(String topic, String model, TrustedKeys trust, long maxPayloadBytes) {
    this.topic = topic;
    this.model = model;
    this.trust = trust;
    this.maxPayloadBytes = maxPayloadBytes;
  }

  private static final class PartitionState {
    long minVersion = Long.MIN_VALUE; // newest-only start: older versions are not delivered
    Pending pending;
    long locateManifestOffset = -1; // newest-only start: the manifest found by the backward scan
    long locateStart = -1; // where reading was started to find its chunks
    long logStart;
  }

  private static final class Pending {
    final long version;
    final long firstOffset;
    long lastOffset;
    int records;
    ChunkCollector collector; // null once an error is found: the data is dropped, the count kept
    String error;
    Reason errorReason;

    Pending(long version, long firstOffset) {
      this.version = version;
      this.firstOffset = firstOffset;
      this.lastOffset = firstOffset;
    }

    void fail(Reason reason, String message) {
      if (error == null) {
        error = message;
        errorReason = reason;
      }
      collector = null;
    }
  }

  private PartitionState state(int partition) {
    return partitions.computeIfAbsent(partition, p -> new PartitionState());
  }

  /**
   * Newest-only start on {@code partition}: versions below {@code version} are skipped, and the manifest at
   * {@code manifestOffset} is expected to find its chunks from {@code start} on; if it does not, a
   * {@link Rewind} further back (never before {@code logStart}) is asked for.
   */
  void startAt(int partition, long version, long manifestOffset, long start, long logStart) {
    PartitionState s = state(partition);
    s.minVersion = version;
    s.locateManifestOffset = manifestOffset;
    s.locateStart = start;
    s.logStart = logStart;
    s.pending = null;
  }

  /** Forgets the version in progress on {@code partition} (after a seek). */
  void reset(int partition) {
    state(partition).pending = null;
  }

  /** Chunks held in memory for versions in progress, all partitions. */
  long pendingBytes() {
    long n = 0;
    for (PartitionState s : partitions.values()) {
      if (s.pending != null && s.pending.collector != null) {
        n += s.pending.collector.bytes();
      }
    }
    return n;
  }

  /** A record of this model (already filtered by key) that could not be deserialized. */
  List<Outcome> onUnreadable(int partition, long offset, String error) {
    PartitionState s = state(partition);
    if (s.pending != null) {
      s.pending.lastOffset = offset;
      s.pending.fail(Reason.MALFORMED, "record at offset " + offset + " of " + topic + "-" + partition
          + " among the chunks of model " + model + " version " + s.pending.version + " is unreadable: " + error);
    }
    return List.of();
  }

  /** A deserialized record value of the model topic (any model; others are ignored). */
  List<Outcome> onRecord(int partition, long offset, Object value) {
    if (EncoderRecords.isChunk(value)) {
      return onChunk(partition, offset, (IndexedRecord) value);
    }
    if (EncoderRecords.isManifest(value)) {
      return onManifest(partition, offset, (IndexedRecord) value);
    }
    return List.of();
  }

  private List<Outcome> onChunk(int partition, long offset, IndexedRecord value) {
    PartitionState s = state(partition);
    EncoderChunk chunk;
    try {
      chunk = EncoderRecords.toChunk(value);
    } catch (IllegalArgumentException e) {
      return onUnreadable(partition, offset, e.getMessage());
    }
    if (!chunk.getModelName().equals(model) || chunk.getVersion() < s.minVersion) {
      return List.of();
    }
    List<Outcome> out = new ArrayList<>(1);
    if (s.pending != null && s.pending.version != chunk.getVersion()) {
      out.add(orphaned(partition, s.pending, "version " + chunk.getVersion() + " began at offset " + offset));
      s.pending = null;
    }
    if (s.pending == null) {
      s.pending = new Pending(chunk.getVersion(), offset);
      s.pending.collector = new ChunkCollector(model, chunk.getVersion(), maxPayloadBytes);
    }
    Pending p = s.pending;
    p.lastOffset = offset;
    p.records++;
    if (p.collector != null) {
      try {
        p.collector.add(chunk);
      } catch (ChunkException e) {
        p.fail(e.kind() == ChunkException.Kind.MISSING ? Reason.MISSING_CHUNKS : Reason.MALFORMED,
            e.getMessage() + " (offset " + offset + ")");
      }
    }
    return out;
  }

  private List<Outcome> onManifest(int partition, long offset, IndexedRecord value) {
    PartitionState s = state(partition);
    Object name = value.get(value.getSchema().getField("modelName").pos());
    if (name == null || !name.toString().equals(model)) {
      return List.of();
    }
    EncoderVersion manifest;
    try {
      manifest = EncoderRecords.toManifest(value);
    } catch (IllegalArgumentException e) {
      return onUnreadable(partition, offset, e.getMessage());
    }
    long version = manifest.getVersion();
    if (version < s.minVersion) {
      if (s.pending != null && s.pending.version == version) {
        s.pending = null;
      }
      return List.of();
    }
    List<Outcome> out = new ArrayList<>(1);
    Pending p = s.pending;
    s.pending = null;
    if (p != null && p.version != version) {
      out.add(orphaned(partition, p, "the manifest of version " + version + " came at offset " + offset));
      p = null;
    }
    if (offset == s.locateManifestOffset) {
      s.locateManifestOffset = -1;
      int have = p == null || p.collector == null ? 0 : p.collector.received();
      if (have < manifest.getChunkCount() && (p == null || p.error == null) && s.locateStart > s.logStart) {
        // Chunks of other models interleaved with this one's: look further back for the first chunk.
        long span = Math.max(offset - s.locateStart, 1);
        long start = Math.max(s.logStart, s.locateStart - span);
        s.locateManifestOffset = offset;
        s.locateStart = start;
        out.add(new Rewind(partition, start));
        return out;
      }
    }
    out.add(judge(partition, offset, value, manifest, p));
    return out;
  }

  /** The checks, in order: signature (is the manifest authentic?), manifest sanity, chunks, SHA-256. */
  private Outcome judge(int partition, long offset, IndexedRecord raw, EncoderVersion m, Pending p) {
    long version = m.getVersion();
    String what = "model " + model + " version " + version;
    switch (trust.verify(raw)) {
      case UNKNOWN_KEY:
        return refuse(partition, offset, version, Reason.UNKNOWN_KEY, what + " is signed by key " + m.getKeyId()
            + ", which is not among the trusted keys " + trust.keyIds());
      case BAD_SIGNATURE:
        return refuse(partition, offset, version, Reason.BAD_SIGNATURE, what + ": the signature does not match"
            + " the manifest under trusted key " + m.getKeyId() + " (manifest altered or signed by another key)");
      default:
        break;
    }
    if (m.getChunkCount() < 1 || m.getPayloadBytes() < 1 || m.getPayloadBytes() > maxPayloadBytes
        || m.getPayloadBytes() > PayloadChunks.MAX_PAYLOAD_BYTES || !Sha256.isHex(m.getPayloadSha256())) {
      return refuse(partition, offset, version, Reason.MALFORMED, what + " declares " + m.getChunkCount()
          + " chunks, " + m.getPayloadBytes() + " bytes (limit " + maxPayloadBytes + "), sha256 '"
          + m.getPayloadSha256() + "'");
    }
    if (p == null) {
      return refuse(partition, offset, version, Reason.MISSING_CHUNKS, what + " has none of its "
          + m.getChunkCount() + " chunks before its manifest at offset " + offset);
    }
    if (p.error != null) {
      return refuse(partition, offset, version, p.errorReason, p.error);
    }
    List<ByteBuffer> parts;
    try {
      parts = p.collector.complete(m.getChunkCount(), m.getPayloadBytes());
    } catch (ChunkException e) {
      Reason reason = e.kind() == ChunkException.Kind.MISSING ? Reason.MISSING_CHUNKS : Reason.MALFORMED;
      return refuse(partition, offset, version, reason, e.getMessage());
    }
    String sha = p.collector.sha256Hex();
    if (!sha.equals(m.getPayloadSha256())) {
      return refuse(partition, offset, version, Reason.SHA_MISMATCH, what + ": payload SHA-256 is " + sha
          + ", the manifest says " + m.getPayloadSha256());
    }
    byte[] payload = PayloadChunks.join(parts, m.getPayloadBytes());
    return new Accepted(new VerifiedVersion(m, payload, topic, partition, offset));
  }

  private Outcome orphaned(int partition, Pending p, String why) {
    return refuse(partition, p.lastOffset, p.version, Reason.MALFORMED, p.records + " chunk record(s) of model "
        + model + " version " + p.version + " at offsets " + p.firstOffset + ".." + p.lastOffset
        + " were not followed by their manifest: " + why);
  }

  private Outcome refuse(int partition, long offset, long version, Reason reason, String message) {
    return new Refused(new RefusedVersion(model, version, reason, message, topic, partition, offset));
  }
}
