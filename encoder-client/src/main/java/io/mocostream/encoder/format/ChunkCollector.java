package io.mocostream.encoder.format;

import io.mocostream.encoder.format.ChunkException.Kind;
import io.mocostream.schemas.EncoderChunk;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Gathers the chunks of one model version as they arrive, checking each on arrival (model, version,
 * index range, one count, no duplicate, a byte limit checked before the chunk is kept), then hands
 * them back in index order once the expected count and size are known. Not thread-safe.
 *
 * <p>Memory is proportional to the chunks received, never to the count a chunk declares: chunks are
 * kept in a map by index (a declared count of 10⁹ allocates nothing), and each chunk is charged
 * {@link #CHUNK_OVERHEAD_BYTES} on top of its data, so a flood of empty chunks is bounded by the
 * same byte limit.
 */
public final class ChunkCollector {
  private final String model;
  private final long version;
  private final long maxBytes;

  /** Bytes each chunk is charged beyond its data: the map entry and buffer that hold it. */
  public static final int CHUNK_OVERHEAD_BYTES = 128;

  private final Map<Integer, ByteBuffer> byIndex = new HashMap<>();
  private int count = -1;
  private int received;
  private long bytes;
  // SHA-256 of the chunks 0..hashed-1, advanced as chunks arrive: chunks come in index order, so
  // the hash is
  // done by the time the manifest arrives instead of adding a pass over the whole payload after it.
  private final MessageDigest digest = Sha256.newDigest();
  private int hashed;
  private long held; // bytes + per-chunk overhead
  // Overhead allowance beyond the byte limit: real payloads of 1-byte chunks (tests) stay
  // acceptable.
  private static final long MAX_CHARGED_CHUNKS = 1 << 16;

  /**
   * Collects chunks of {@code model} {@code version}, refusing more than {@code maxBytes} in total.
   */
  public ChunkCollector(String model, long version, long maxBytes) {
    this.model = model;
    this.version = version;
    this.maxBytes = maxBytes;
  }

  /** Adds one chunk; a chunk that cannot belong is refused with the reason and nothing is kept. */
  public void add(EncoderChunk chunk) throws ChunkException {
    add(
        chunk.getModelName(),
        chunk.getVersion(),
        chunk.getIndex(),
        chunk.getCount(),
        chunk.getData());
  }

  /** Bytes {@link #add} would charge for a chunk of {@code dataBytes}. */
  public static long charge(long dataBytes) {
    return dataBytes + CHUNK_OVERHEAD_BYTES;
  }

  /** Adds one chunk given by its fields (for records read generically). */
  public void add(String chunkModel, long chunkVersion, int index, int chunkCount, ByteBuffer data)
      throws ChunkException {
    if (!model.equals(chunkModel) || version != chunkVersion) {
      throw error(
          Kind.FOREIGN,
          index,
          "chunk "
              + index
              + " of model "
              + chunkModel
              + " version "
              + chunkVersion
              + " is not part of model "
              + model
              + " version "
              + version);
    }
    if (chunkCount < 1) {
      throw error(
          Kind.COUNT_MISMATCH, index, describe(index) + " declares " + chunkCount + " chunks");
    }
    if (count < 0) {
      // The count comes from a record: bound it by the bytes it could describe before allocating
      // for it.
      if (chunkCount > maxBytes) {
        throw error(
            Kind.SIZE_MISMATCH,
            index,
            describe(index)
                + " declares "
                + chunkCount
                + " chunks, more than the "
                + maxBytes
                + "-byte limit allows");
      }
      count = chunkCount;
    } else if (chunkCount != count) {
      throw error(
          Kind.COUNT_MISMATCH,
          index,
          describe(index)
              + " declares "
              + chunkCount
              + " chunks, earlier chunks declared "
              + count);
    }
    if (index < 0 || index >= count) {
      throw error(
          Kind.OUT_OF_RANGE,
          index,
          "chunk index "
              + index
              + " of model "
              + model
              + " version "
              + version
              + " is outside 0.."
              + (count - 1));
    }
    if (byIndex.containsKey(index)) {
      throw error(Kind.DUPLICATE, index, describe(index) + " arrived twice");
    }
    int n = data.remaining();
    if (bytes + n > maxBytes
        || held + charge(n) > maxBytes + (long) CHUNK_OVERHEAD_BYTES * MAX_CHARGED_CHUNKS) {
      throw error(
          Kind.SIZE_MISMATCH,
          index,
          describe(index)
              + " brings the payload to "
              + (bytes + n)
              + " bytes in "
              + (received + 1)
              + " chunks, over the limit of "
              + maxBytes);
    }
    byIndex.put(index, data);
    received++;
    bytes += n;
    held += charge(n);
    ByteBuffer next;
    while (hashed < count && (next = byIndex.get(hashed)) != null) {
      digest.update(next.duplicate());
      hashed++;
    }
  }

  /**
   * Hex SHA-256 of the joined chunks; call after {@link #complete} succeeded. Computed
   * incrementally as the chunks arrived, so this costs nothing more when they came in order. Once
   * only (the digest is consumed).
   */
  public String sha256Hex() {
    if (count < 0 || received < count) {
      throw new IllegalStateException(this + " is not complete");
    }
    return Sha256.toHex(digest.digest());
  }

  /**
   * The chunks in index order, once all {@code expectedCount} arrived and they add up to {@code
   * expectedBytes} (-1: any size). The first missing index is named.
   */
  public List<ByteBuffer> complete(int expectedCount, long expectedBytes) throws ChunkException {
    if (expectedCount < 1) {
      throw error(
          Kind.COUNT_MISMATCH,
          -1,
          "model "
              + model
              + " version "
              + version
              + " declares "
              + expectedCount
              + " chunks; a version has at least one");
    }
    if (count < 0) {
      throw error(
          Kind.MISSING,
          0,
          "model "
              + model
              + " version "
              + version
              + " has none of its "
              + expectedCount
              + " chunks (first missing index 0)");
    }
    if (count != expectedCount) {
      throw error(
          Kind.COUNT_MISMATCH,
          -1,
          "chunks of model "
              + model
              + " version "
              + version
              + " declare "
              + count
              + " chunks, the manifest "
              + expectedCount);
    }
    if (received < count) {
      int first = -1;
      for (int i = 0; i < count && first < 0; i++) { // ends by index received + 1 at the latest
        if (!byIndex.containsKey(i)) {
          first = i;
        }
      }
      throw error(
          Kind.MISSING,
          first,
          "model "
              + model
              + " version "
              + version
              + " lacks "
              + (count - received)
              + " of "
              + count
              + " chunks (first missing index "
              + first
              + ")");
    }
    if (expectedBytes >= 0 && bytes != expectedBytes) {
      throw error(
          Kind.SIZE_MISMATCH,
          -1,
          "chunks of model "
              + model
              + " version "
              + version
              + " hold "
              + bytes
              + " bytes, the manifest declares "
              + expectedBytes);
    }
    List<ByteBuffer> ordered = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ordered.add(byIndex.get(i));
    }
    return ordered;
  }

  public String model() {
    return model;
  }

  public long version() {
    return version;
  }

  /** Chunks kept so far. */
  public int received() {
    return received;
  }

  /** Payload bytes kept so far. */
  public long bytes() {
    return bytes;
  }

  /** Bytes charged so far: payload bytes plus {@link #CHUNK_OVERHEAD_BYTES} per chunk. */
  public long heldBytes() {
    return held;
  }

  /** The chunk count the chunks declare, or -1 before the first chunk. */
  public int declaredCount() {
    return count;
  }

  /** "chunk I of model M version V": how every message names the chunk at fault. */
  private String describe(int index) {
    return "chunk " + index + " of model " + model + " version " + version;
  }

  private ChunkException error(Kind kind, int index, String message) {
    return new ChunkException(kind, model, version, index, message);
  }

  @Override
  public String toString() {
    return "ChunkCollector["
        + model
        + " v"
        + version
        + ", "
        + received
        + "/"
        + (count < 0 ? "?" : count)
        + " chunks, "
        + bytes
        + " bytes]";
  }
}
