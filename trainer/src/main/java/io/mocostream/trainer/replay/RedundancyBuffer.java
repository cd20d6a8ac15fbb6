package io.mocostream.trainer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A replay buffer that keeps a stream's samples decorrelated, after MinRed (Purushwalkam et al.,
 * "The Challenges of Continuous Self-Supervised Learning", ECCV 2022): new samples enter with an
 * L2-normalised feature; while the buffer holds more than its capacity, the most redundant sample
 * leaves, the one whose nearest neighbour in the buffer is closest (highest cosine similarity);
 * training batches are drawn from the buffer. On a correlated feed (a camera showing one scene for
 * many frames) near-copies evict each other and the buffer keeps one of each scene, so a batch
 * drawn from it is as diverse as the feed allows.
 *
 * <p>Deterministic: the nearest-neighbour similarity of every sample is kept exactly (updated on
 * insert, recomputed for the samples whose neighbour left), ties are broken by the draw count then
 * the age, and draws come from a generator seeded by {@code (seed, step)}. So the same inserts and
 * draws give the same buffer, and {@link #slots()} (samples, features, insertion numbers, draw
 * counts, in order) is the whole state a checkpoint needs: {@link #restore} rebuilds everything
 * else.
 *
 * <p>Hand-written (no library): a few hundred to a few thousand D-dimensional vectors, one pass per
 * insert.
 *
 * @param <T> what a sample is to the caller (a frame's stream position and image)
 */
public final class RedundancyBuffer<T> {

  /**
   * One sample as saved: the caller's value, its feature (D floats), its insertion number and draw
   * count.
   */
  public record Slot<T>(T value, float[] feature, long seq, int draws) {
    public Slot {
      Objects.requireNonNull(value, "value");
      Objects.requireNonNull(feature, "feature");
    }
  }

  private static final class Entry<T> {
    final T value;
    final float[] feature;
    final long seq;
    int draws;
    Entry<T> nearest;
    float nearestSim = Float.NEGATIVE_INFINITY;

    Entry(T value, float[] feature, long seq, int draws) {
      this.value = value;
      this.feature = feature;
      this.seq = seq;
      this.draws = draws;
    }
  }

  private final int capacity;
  private final int dim;
  private final List<Entry<T>> entries = new ArrayList<>();
  private long nextSeq;
  private long evicted;

  /**
   * @param capacity samples kept (≥ 2)
   * @param dim feature dimension D
   */
  public RedundancyBuffer(int capacity, int dim) {
    if (capacity < 2) {
      throw new IllegalArgumentException(
          "replay buffer capacity must be at least 2, got " + capacity);
    }
    if (dim < 1) {
      throw new IllegalArgumentException("feature dimension must be at least 1, got " + dim);
    }
    this.capacity = capacity;
    this.dim = dim;
  }

  public int capacity() {
    return capacity;
  }

  public int size() {
    return entries.size();
  }

  /** Samples evicted since this buffer was created or restored. */
  public long evicted() {
    return evicted;
  }

  /**
   * Inserts {@code values} with their features ({@code features}: N×D, row i for value i,
   * L2-normalised), then evicts the most redundant samples until the capacity holds. New samples
   * may leave at once: a frame that nearly repeats one already kept is the redundancy this buffer
   * removes.
   *
   * @return the values evicted, in eviction order
   */
  public List<T> insert(List<T> values, float[] features) {
    if (features.length != (long) values.size() * dim) {
      throw new IllegalArgumentException(
          "features for "
              + values.size()
              + " samples must hold "
              + values.size()
              + "×"
              + dim
              + " floats, got "
              + features.length);
    }
    for (int i = 0; i < values.size(); i++) {
      float[] f = new float[dim];
      System.arraycopy(features, i * dim, f, 0, dim);
      add(new Entry<>(values.get(i), f, nextSeq++, 0));
    }
    List<T> out = new ArrayList<>();
    while (entries.size() > capacity) {
      out.add(evictOne());
    }
    return out;
  }

  private void add(Entry<T> e) {
    for (Entry<T> o : entries) {
      float s = dot(e.feature, o.feature);
      if (s > e.nearestSim) {
        e.nearestSim = s;
        e.nearest = o;
      }
      if (s > o.nearestSim) {
        o.nearestSim = s;
        o.nearest = e;
      }
    }
    entries.add(e);
  }

  /**
   * Removes the sample whose nearest neighbour is closest; of equals, the most drawn, then the
   * oldest.
   */
  private T evictOne() {
    int worst = 0;
    for (int i = 1; i < entries.size(); i++) {
      Entry<T> e = entries.get(i);
      Entry<T> w = entries.get(worst);
      if (e.nearestSim > w.nearestSim
          || (e.nearestSim == w.nearestSim
              && (e.draws > w.draws || (e.draws == w.draws && e.seq < w.seq)))) {
        worst = i;
      }
    }
    Entry<T> gone = entries.remove(worst);
    for (Entry<T> e : entries) {
      if (e.nearest == gone) {
        e.nearest = null;
        e.nearestSim = Float.NEGATIVE_INFINITY;
        for (Entry<T> o : entries) {
          if (o != e) {
            float s = dot(e.feature, o.feature);
            if (s > e.nearestSim) {
              e.nearestSim = s;
              e.nearest = o;
            }
          }
        }
      }
    }
    evicted++;
    return gone.value;
  }

  /**
   * Draws {@code n} distinct samples (all of them if the buffer holds fewer), uniformly, from a
   * generator seeded by {@code (seed, step)}; each drawn sample's draw count goes up by one.
   */
  public List<T> draw(int n, long seed, long step) {
    int m = Math.min(n, entries.size());
    int[] order = new int[entries.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    SplittableRandom rnd = new SplittableRandom(mix(seed, step));
    List<T> out = new ArrayList<>(m);
    for (int i = 0; i < m; i++) { // partial Fisher–Yates
      int j = i + rnd.nextInt(order.length - i);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
      Entry<T> e = entries.get(order[i]);
      e.draws++;
      out.add(e.value);
    }
    return out;
  }

  /** The buffer's state, in buffer order: with {@link #restore} it rebuilds this buffer exactly. */
  public List<Slot<T>> slots() {
    List<Slot<T>> out = new ArrayList<>(entries.size());
    for (Entry<T> e : entries) {
      out.add(new Slot<>(e.value, e.feature.clone(), e.seq, e.draws));
    }
    return out;
  }

  /** The next insertion number (part of the state: ties are broken by age). */
  public long nextSeq() {
    return nextSeq;
  }

  /** Replaces the contents with saved slots (in their saved order) and insertion counter. */
  public void restore(List<Slot<T>> slots, long savedNextSeq) {
    if (slots.size() > capacity) {
      throw new IllegalArgumentException(
          "saved replay buffer holds "
              + slots.size()
              + " samples, more than this "
              + "buffer's capacity "
              + capacity);
    }
    entries.clear();
    for (Slot<T> s : slots) {
      if (s.feature().length != dim) {
        throw new IllegalArgumentException(
            "saved replay buffer feature has "
                + s.feature().length
                + " dimensions, this buffer "
                + dim);
      }
      add(new Entry<>(s.value(), s.feature().clone(), s.seq(), s.draws()));
    }
    nextSeq = savedNextSeq;
  }

  /** The sample's nearest-neighbour similarity, for tests and metrics; index in buffer order. */
  public float nearestSimilarity(int index) {
    return entries.get(index).nearestSim;
  }

  private static float dot(float[] a, float[] b) {
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** SplitMix64 finaliser of seed and step: neighbouring steps get unrelated generators. */
  public static long mix(long seed, long step) {
    long z = seed * 0x9E3779B97F4A7C15L + step + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
