package io.mocostream.encoder.client;

import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.format.ChunkCollector;
import io.mocostream.encoder.format.ChunkException;
import io.mocostream.encoder.format.EncoderRecords;
import io.mocostream.encoder.format.PayloadChunks;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.generic.IndexedRecord;

/**
 * The subscriber's judgement, free of Kafka: fed the model topic's records of one model partition
 * by partition in offset order, it gathers each version's chunks and, at its manifest, accepts or
 * refuses the version.
 *
 * <p>Chunks carry no signature, so until a manifest verifies they are anyone's: they are held per
 * (partition, version), so that chunks of another version interleaved with a real version's (a
 * forged chunk, a second writer) cannot orphan it, and all of them together under ONE byte budget,
 * each chunk charged its bytes plus {@link ChunkCollector#CHUNK_OVERHEAD_BYTES}. When a chunk would
 * exceed the budget, the pending versions extended least recently are dropped first (refused as
 * MALFORMED, reported): a version being written is extended with every chunk and stays, a flood
 * that stopped is what goes. The budget starts at the subscriber's limit and, once a version is
 * accepted, is sized from it (see {@link #sizeBudgetFrom}). When a manifest verifies, the versions
 * pending on its partition whose chunks all came before it never got their manifest (one
 * transaction writes a version's chunks, then its manifest) and are refused as MALFORMED. Not
 * thread-safe.
 */
final class VersionAssembler {

  /** What a record led to. */
  sealed interface Outcome permits Accepted, Refused, Rewind {}

  record Accepted(VerifiedVersion version) implements Outcome {}

  record Refused(RefusedVersion refused) implements Outcome {}

  /**
   * The newest-version start guessed the first chunk's offset too late: read the partition again
   * from here.
   */
  record Rewind(int partition, long offset) implements Outcome {}

  /** Pending versions per partition beyond which the least recently extended one is dropped. */
  static final int MAX_PENDING_VERSIONS = 64;

  private final String topic;
  private final String model;
  private final VersionGate gate;
  private final long maxBudget;
  private long budget;
  private long held;
  private long sequence; // arrival order of chunks, across partitions: "least recently extended"
  private final Map<Integer, PartitionState> partitions = new HashMap<>();

  VersionAssembler(String topic, String model, VersionGate gate, long maxPendingBytes) {
    this.topic = topic;
    this.model = model;
    this.gate = gate;
    this.maxBudget = maxPendingBytes;
    this.budget = maxPendingBytes;
  }

  private static final class PartitionState {
    long minVersion =
        Long.MIN_VALUE; // newest-only start: older versions before the start are not delivered
    long locatedAt = -1; // offset of the manifest the start was located by (-1: none)
    long locateManifestOffset = -1; // while its chunks are being looked for
    long locateStart = -1; // where reading was started to find them
    long logStart;
    final Map<Long, Pending> pending = new LinkedHashMap<>();
  }

  private static final class Pending {
    final int partition;
    final long version;
    final long firstOffset;
    long lastOffset;
    long lastSequence;
    int records;
    ChunkCollector collector; // null once an error is found: the data is dropped, the count kept
    String error;
    Reason errorReason;
    boolean reported; // a refusal for this version number (its unverified manifest) was already

    // reported

    Pending(int partition, long version, long firstOffset) {
      this.partition = partition;
      this.version = version;
      this.firstOffset = firstOffset;
      this.lastOffset = firstOffset;
    }

    long held() {
      return collector == null ? 0 : collector.heldBytes();
    }
  }

  private PartitionState state(int partition) {
    return partitions.computeIfAbsent(partition, p -> new PartitionState());
  }

  /**
   * Newest-only start on {@code partition}: versions below {@code version} before the manifest at
   * {@code manifestOffset} are skipped, and that manifest is expected to find its chunks from
   * {@code start} on; if it does not, a {@link Rewind} further back (never before {@code logStart})
   * is asked for.
   */
  void startAt(int partition, long version, long manifestOffset, long start, long logStart) {
    PartitionState s = state(partition);
    s.minVersion = version;
    s.locatedAt = manifestOffset;
    s.locateManifestOffset = manifestOffset;
    s.locateStart = start;
    s.logStart = logStart;
    dropAll(s);
  }

  /** Forgets the versions in progress on {@code partition} (after a seek). */
  void reset(int partition) {
    dropAll(state(partition));
  }

  private void dropAll(PartitionState s) {
    for (Pending p : s.pending.values()) {
      held -= p.held();
    }
    s.pending.clear();
  }

  /** Bytes charged for chunks held for versions in progress, all partitions. */
  long pendingBytes() {
    return held;
  }

  /** The byte budget for chunks held before their manifest. */
  long budget() {
    return budget;
  }

  /**
   * Sizes the budget from an accepted version: room for three versions of its size (one being
   * written, one interleaved, slack), never above the subscriber's limit. Versions of one model
   * share an architecture (the trainer refuses to change it), so a version far larger than the last
   * is no version of this model.
   */
  void sizeBudgetFrom(EncoderVersion accepted) {
    long one =
        accepted.getPayloadBytes()
            + (long) accepted.getChunkCount() * ChunkCollector.CHUNK_OVERHEAD_BYTES;
    budget = Math.min(maxBudget, Math.max(3 * one, 1L << 20));
  }

  /**
   * A record of this model that could not be read: refused on its own, versions in progress are not
   * touched.
   */
  List<Outcome> onUnreadable(int partition, long offset, String error) {
    return List.of(
        refuse(
            partition,
            offset,
            -1,
            Reason.UNREADABLE,
            "record "
                + topic
                + "-"
                + partition
                + "@"
                + offset
                + " of model "
                + model
                + " is unreadable: "
                + error));
  }

  /** A deserialized record value of the model topic (other models are ignored). */
  List<Outcome> onRecord(int partition, long offset, Object value) {
    if (EncoderRecords.isChunk(value)) {
      return onChunk(partition, offset, (IndexedRecord) value);
    }
    if (EncoderRecords.isManifest(value)) {
      return onManifest(partition, offset, (IndexedRecord) value);
    }
    return onUnreadable(
        partition,
        offset,
        "a "
            + Untrusted.text(((IndexedRecord) value).getSchema().getFullName())
            + " is neither a manifest nor a chunk");
  }

  private List<Outcome> onChunk(int partition, long offset, IndexedRecord value) {
    PartitionState s = state(partition);
    EncoderChunk chunk;
    try {
      chunk = EncoderRecords.toChunk(value);
    } catch (IllegalArgumentException e) {
      return onUnreadable(partition, offset, e.getMessage());
    }
    if (!chunk.getModelName().equals(model)) {
      return List.of();
    }
    if (chunk.getVersion() < s.minVersion && offset < s.locatedAt) {
      return List.of(); // history before the newest-version start
    }
    List<Outcome> out = new ArrayList<>(0);
    Pending p = s.pending.get(chunk.getVersion());
    if (p != null && chunk.getIndex() == 0) {
      // One transaction writes a version's chunks in index order: a chunk 0 starts the version
      // again. Chunks
      // planted earlier under the same version number (or left by a refused manifest) cannot spoil
      // it then.
      s.pending.remove(chunk.getVersion());
      held -= p.held();
      if (!p.reported) {
        out.add(orphaned(p, "chunk 0 of version " + p.version + " came again at offset " + offset));
      }
      p = null;
    }
    if (p == null) {
      if (s.pending.size() >= MAX_PENDING_VERSIONS) {
        evictLeastRecent(
            out,
            Optional.of(s),
            "more than "
                + MAX_PENDING_VERSIONS
                + " versions pending on "
                + topic
                + "-"
                + partition);
      }
      p = new Pending(partition, chunk.getVersion(), offset);
      p.collector = new ChunkCollector(model, chunk.getVersion(), gate.maxPayloadBytes());
      s.pending.put(chunk.getVersion(), p);
    }
    p.lastOffset = offset;
    p.lastSequence = ++sequence;
    p.records++;
    if (p.collector == null) {
      return out;
    }
    long charge = ChunkCollector.charge(chunk.getData().remaining());
    while (held + charge > budget && evictLeastRecentOther(out, p)) {
      // dropped the least recently extended other version
    }
    if (held + charge > budget) {
      fail(
          p,
          Reason.MALFORMED,
          "chunks of model "
              + model
              + " version "
              + p.version
              + " up to offset "
              + offset
              + " need more than the "
              + budget
              + " bytes held for versions before their manifest");
      return out;
    }
    long before = p.held();
    try {
      p.collector.add(chunk);
      held += p.held() - before;
    } catch (ChunkException e) {
      fail(
          p,
          e.kind() == ChunkException.Kind.MISSING ? Reason.MISSING_CHUNKS : Reason.MALFORMED,
          e.getMessage() + " (offset " + offset + ")");
    }
    return out;
  }

  private void fail(Pending p, Reason reason, String message) {
    if (p.error == null) {
      p.error = message;
      p.errorReason = reason;
    }
    held -= p.held();
    p.collector = null;
  }

  private boolean evictLeastRecentOther(List<Outcome> out, Pending keep) {
    Pending victim = null;
    for (PartitionState s : partitions.values()) {
      for (Pending p : s.pending.values()) {
        if (p != keep && p.held() > 0 && (victim == null || p.lastSequence < victim.lastSequence)) {
          victim = p;
        }
      }
    }
    if (victim == null) {
      return false;
    }
    state(victim.partition).pending.remove(victim.version);
    held -= victim.held();
    if (!victim.reported) {
      out.add(
          orphaned(
              victim,
              "dropped to keep the chunks held before their manifest within " + budget + " bytes"));
    }
    return true;
  }

  private void evictLeastRecent(List<Outcome> out, Optional<PartitionState> in, String why) {
    PartitionState s = in.orElseThrow();
    Pending victim = null;
    for (Pending p : s.pending.values()) {
      if (victim == null || p.lastSequence < victim.lastSequence) {
        victim = p;
      }
    }
    if (victim != null) {
      s.pending.remove(victim.version);
      held -= victim.held();
      if (!victim.reported) {
        out.add(orphaned(victim, "dropped: " + why));
      }
    }
  }

  private List<Outcome> onManifest(int partition, long offset, IndexedRecord value) {
    PartitionState s = state(partition);
    EncoderVersion manifest;
    try {
      manifest = EncoderRecords.toManifest(value);
    } catch (RuntimeException e) {
      // A writer schema of another shape (no modelName, other types): this record is refused,
      // nothing else.
      return onUnreadable(
          partition, offset, "a manifest whose schema does not resolve: " + e.getMessage());
    }
    if (!model.equals(String.valueOf(manifest.getModelName()))) {
      return List.of();
    }
    long version = manifest.getVersion();
    if (version < s.minVersion && offset < s.locatedAt) {
      Pending dropped = s.pending.remove(version);
      if (dropped != null) {
        held -= dropped.held();
      }
      return List.of();
    }
    List<Outcome> out = new ArrayList<>(1);
    Pending p = s.pending.get(version);
    if (offset == s.locateManifestOffset) {
      s.locateManifestOffset = -1;
      int have = p == null || p.collector == null ? 0 : p.collector.received();
      if (have < manifest.getChunkCount()
          && (p == null || p.error == null)
          && s.locateStart > s.logStart) {
        // Chunks of other models interleaved with this one's: look further back for the first
        // chunk.
        long span = Math.max(offset - s.locateStart, 1);
        long start = Math.max(s.logStart, s.locateStart - span);
        s.locateManifestOffset = offset;
        s.locateStart = start;
        out.add(new Rewind(partition, start));
        return out;
      }
    }
    Optional<VersionGate.Refusal> no = gate.checkManifest(value, manifest);
    if (no.isPresent()) {
      // Unverified: it decides nothing, not even the fate of the chunks pending for its version
      // number (a real
      // manifest may still come for them); if none does, they go without a second report.
      if (p != null) {
        p.reported = true;
      }
      out.add(refuse(partition, offset, version, no.get().reason(), no.get().message()));
      return out;
    }
    s.pending.remove(version);
    if (p != null) {
      held -= p.held();
    }
    // Verified: versions pending on this partition whose chunks all came before it will never get a
    // manifest.
    for (Iterator<Pending> it = s.pending.values().iterator(); it.hasNext(); ) {
      Pending other = it.next();
      if (other.lastOffset < offset) {
        it.remove();
        held -= other.held();
        if (!other.reported) {
          out.add(
              orphaned(
                  other,
                  "the verified manifest of version " + version + " came at offset " + offset));
        }
      }
    }
    out.add(judgeChunks(partition, offset, manifest, p));
    return out;
  }

  /** The payload checks of a verified manifest: every chunk present once, sizes, SHA-256. */
  private Outcome judgeChunks(int partition, long offset, EncoderVersion m, Pending p) {
    long version = m.getVersion();
    String what = "model " + model + " version " + version;
    if (p == null) {
      return refuse(
          partition,
          offset,
          version,
          Reason.MISSING_CHUNKS,
          what
              + " has none of its "
              + m.getChunkCount()
              + " chunks before its manifest at offset "
              + offset);
    }
    if (p.error != null) {
      return refuse(partition, offset, version, p.errorReason, p.error);
    }
    List<ByteBuffer> parts;
    try {
      parts = p.collector.complete(m.getChunkCount(), m.getPayloadBytes());
    } catch (ChunkException e) {
      Reason reason =
          e.kind() == ChunkException.Kind.MISSING ? Reason.MISSING_CHUNKS : Reason.MALFORMED;
      return refuse(partition, offset, version, reason, e.getMessage());
    }
    String sha = p.collector.sha256Hex();
    if (!sha.equals(m.getPayloadSha256())) {
      return refuse(
          partition,
          offset,
          version,
          Reason.SHA_MISMATCH,
          what + ": payload SHA-256 is " + sha + ", the manifest says " + m.getPayloadSha256());
    }
    byte[] payload = PayloadChunks.join(parts, m.getPayloadBytes());
    return new Accepted(new VerifiedVersion(m, payload, topic, partition, offset));
  }

  private Outcome orphaned(Pending p, String why) {
    return refuse(
        p.partition,
        p.lastOffset,
        p.version,
        Reason.MALFORMED,
        p.records
            + " chunk record(s) of model "
            + model
            + " version "
            + p.version
            + " at offsets "
            + p.firstOffset
            + ".."
            + p.lastOffset
            + " were not followed by their manifest: "
            + why);
  }

  private Outcome refuse(int partition, long offset, long version, Reason reason, String message) {
    return new Refused(
        new RefusedVersion(model, version, reason, message, topic, partition, offset));
  }
}
