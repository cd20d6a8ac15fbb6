package io.mocostream.trainer.moco;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.mocostream.vision.model.Encoders;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MoCo's queue of negative keys: a ring buffer of K keys, kept as a D×K array (so that {@code
 * q.matMul(queue)} is N×D · D×K and its result lands in the caller's step scope), with a {@link
 * QueueEntry} per slot.
 *
 * <p>Unlike {@code moco/builder.py} (which asserts {@code K % batch == 0}), any number of keys may
 * be enqueued: a write that runs past the end wraps around (split into two column ranges), and a
 * batch larger than K keeps only its last K keys, exactly as writing them one by one would. Slots
 * are filled from 0 upwards, so while the queue is not yet full the filled slots are [0, {@link
 * #size()}) and the pointer equals the size; unfilled slots are never handed out as negatives (no
 * fake zero keys).
 */
public final class KeyQueue {

  private static final int MAGIC = 0x4B515545; // "KQUE"
  private static final int VERSION = 1;

  private final int dim;
  private final int capacity;
  private final NDArray keys; // keys: D×K, long-lived
  private final QueueEntry[] entries;
  private final int[] sourceCodes; // per slot: interned sourceId, -1 for unknown
  private final Map<String, Integer> sourceIndex = new HashMap<>();
  private int pointer;
  private int filled;

  KeyQueue(NDManager manager, int dim, int capacity) {
    if (dim < 1) {
      throw new IllegalArgumentException("queue key dimension " + dim + " must be >= 1");
    }
    if (capacity < 1) {
      throw new IllegalArgumentException("queue size " + capacity + " must be >= 1");
    }
    this.dim = dim;
    this.capacity = capacity;
    this.keys = manager.zeros(new Shape(dim, capacity));
    this.entries = new QueueEntry[capacity];
    this.sourceCodes = new int[capacity];
  }

  /** K: number of slots. */
  public int capacity() {
    return capacity;
  }

  /** D: dimension of a key. */
  public int dim() {
    return dim;
  }

  /** Filled slots (≤ K). */
  public int size() {
    return filled;
  }

  /** The slot the next key goes to. */
  public int pointer() {
    return pointer;
  }

  /** Metadata of slot {@code slot} (null if not filled). */
  public QueueEntry entry(int slot) {
    return entries[slot];
  }

  /** Metadata of the filled slots, in slot order. */
  public List<QueueEntry> entries() {
    return List.of(Arrays.copyOf(entries, filled));
  }

  /** A copy of the key array, D×K row-major (slot j of dimension d at {@code d·K + j}). */
  public float[] keysSnapshot() {
    return keys.toFloatArray();
  }

  /**
   * Writes keys {@code k} (N×D, any N ≥ 1) at the pointer, wrapping, with their metadata, and
   * advances the pointer by N (mod K). If N > K only the last K keys are written.
   */
  void enqueue(NDArray k, List<QueueEntry> meta, long step) {
    int n = Math.toIntExact(k.getShape().get(0));
    if (k.getShape().dimension() != 2 || k.getShape().get(1) != dim) {
      throw new IllegalArgumentException(
          "keys of shape " + k.getShape() + " do not fit a queue of dimension " + dim);
    }
    if (meta.size() != n) {
      throw new IllegalArgumentException(n + " keys but " + meta.size() + " queue entries");
    }
    int skip = Math.max(0, n - capacity); // overwritten within this very write
    int count = n - skip;
    int start = (pointer + skip) % capacity;
    NDArray columns = k.get(new NDIndex("{}:", skip)).transpose(); // D×count, in k's (step) scope
    int first = Math.min(count, capacity - start);
    keys.set(
        new NDIndex(":, {}:{}", start, start + first), columns.get(new NDIndex(":, 0:{}", first)));
    if (count > first) { // wrapped: the rest goes to the front
      keys.set(new NDIndex(":, 0:{}", count - first), columns.get(new NDIndex(":, {}:", first)));
    }
    for (int i = 0; i < count; i++) {
      int slot = (start + i) % capacity;
      QueueEntry entry = meta.get(skip + i).withStep(step);
      entries[slot] = entry;
      sourceCodes[slot] = code(entry.sourceId());
    }
    pointer = (int) ((pointer + (long) n) % capacity);
    filled = (int) Math.min(capacity, filled + (long) n);
  }

  private int code(String sourceId) {
    return sourceId.equals(QueueEntry.UNKNOWN_SOURCE)
        ? -1
        : sourceIndex.computeIfAbsent(sourceId, s -> sourceIndex.size());
  }

  /** The filled part of the queue, D×size(), as a view owned by {@code scope}; null when empty. */
  NDArray negatives(NDManager scope) {
    if (filled == 0) {
      return null;
    }
    return keys.get(scope, new NDIndex(":, 0:{}", filled));
  }

  /**
   * Additive logit mask for same-source negatives, N×size() row-major: −∞ where slot j holds a key
   * from query i's source captured within {@code windowMs} of query i's frame, else 0. Null when
   * nothing is masked (the common case: no mask array is built).
   */
  float[] sameSourceMask(List<QueueEntry> queries, long windowMs) {
    float[] mask = null;
    for (int i = 0; i < queries.size(); i++) {
      QueueEntry query = queries.get(i);
      Integer source =
          query.sourceId().equals(QueueEntry.UNKNOWN_SOURCE)
              ? null
              : sourceIndex.get(query.sourceId());
      if (source == null) {
        continue;
      }
      long time = query.timestampMs();
      for (int j = 0; j < filled; j++) {
        if (sourceCodes[j] == source && Math.abs(entries[j].timestampMs() - time) <= windowMs) {
          if (mask == null) {
            mask = new float[queries.size() * filled];
          }
          mask[i * filled + j] = Float.NEGATIVE_INFINITY;
        }
      }
    }
    return mask;
  }

  /** Writes keys of the filled slots (bit-exact), metadata, pointer and size. */
  void save(DataOutputStream out) throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(VERSION);
    out.writeInt(dim);
    out.writeInt(capacity);
    out.writeInt(pointer);
    out.writeInt(filled);
    float[] all = keys.toFloatArray(); // D×K
    ByteBuffer row = ByteBuffer.allocate(filled * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int d = 0; d < dim; d++) {
      row.clear();
      row.asFloatBuffer().put(all, d * capacity, filled);
      out.write(row.array(), 0, filled * Float.BYTES);
    }
    for (int j = 0; j < filled; j++) {
      QueueEntry e = entries[j];
      out.writeUTF(e.sourceId());
      out.writeInt(e.partition());
      out.writeLong(e.offset());
      out.writeLong(e.step());
      out.writeLong(e.timestampMs());
    }
  }

  /** Restores what {@link #save} wrote into this queue (same D and K). */
  void load(DataInputStream in) throws IOException {
    if (in.readInt() != MAGIC) {
      throw new IOException("queue state: bad magic number");
    }
    int version = in.readInt();
    if (version != VERSION) {
      throw new IOException(
          "queue state: version " + version + " is not supported (expected " + VERSION + ")");
    }
    int savedDim = in.readInt();
    int savedCapacity = in.readInt();
    if (savedDim != dim || savedCapacity != capacity) {
      throw new IOException(
          "queue state is "
              + savedDim
              + "×"
              + savedCapacity
              + " but this queue is "
              + dim
              + "×"
              + capacity);
    }
    int savedPointer = in.readInt();
    int savedFilled = in.readInt();
    if (savedFilled < 0
        || savedFilled > capacity
        || savedPointer < 0
        || savedPointer >= capacity
        || (savedFilled < capacity && savedPointer != savedFilled)) {
      throw new IOException(
          "queue state: pointer "
              + savedPointer
              + " and size "
              + savedFilled
              + " are inconsistent for capacity "
              + capacity);
    }
    float[] all = new float[dim * capacity];
    byte[] bytes = new byte[savedFilled * Float.BYTES];
    for (int d = 0; d < dim; d++) {
      in.readFully(bytes);
      ByteBuffer.wrap(bytes)
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(all, d * capacity, savedFilled);
    }
    List<QueueEntry> meta = new ArrayList<>(savedFilled);
    for (int j = 0; j < savedFilled; j++) {
      meta.add(
          new QueueEntry(in.readUTF(), in.readInt(), in.readLong(), in.readLong(), in.readLong()));
    }
    Encoders.copyInto(keys, all);
    Arrays.fill(entries, null);
    Arrays.fill(sourceCodes, -1);
    sourceIndex.clear();
    for (int j = 0; j < savedFilled; j++) {
      entries[j] = meta.get(j);
      sourceCodes[j] = code(meta.get(j).sourceId());
    }
    pointer = savedPointer;
    filled = savedFilled;
  }
}
