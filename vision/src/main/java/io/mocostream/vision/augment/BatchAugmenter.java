package io.mocostream.vision.augment;

import io.mocostream.frames.DecodedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fills whole N × C × S × S batches with {@link Augmenter} views on a fixed pool of threads, so the
 * streaming trainer can prepare the next batch while the engine computes the current one ({@link
 * #twoViewsAsync}). Each record's views depend only on (seed, partition, offset, view), never on
 * which thread computes them, so results are identical for any thread count.
 */
public final class BatchAugmenter implements AutoCloseable {

  /**
   * One record of a batch: its image and its stream position.
   *
   * @param image decoded image
   * @param partition Kafka partition the record came from
   * @param offset its offset in that partition
   */
  public record Item(DecodedImage image, int partition, long offset) {
    public Item {
      Objects.requireNonNull(image, "image");
    }
  }

  private static final AtomicInteger POOLS = new AtomicInteger();

  private final Augmenter augmenter;
  private final int threads;
  private final ExecutorService pool;

  /** A batch augmenter with {@code threads} worker threads (daemon, named {@code augment-P-T}). */
  public BatchAugmenter(Augmenter augmenter, int threads) {
    this.augmenter = Objects.requireNonNull(augmenter, "augmenter");
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be ≥ 1, got " + threads);
    }
    this.threads = threads;
    int poolId = POOLS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    ThreadFactory factory =
        r -> {
          Thread t = new Thread(r, "augment-" + poolId + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    this.pool = Executors.newFixedThreadPool(threads, factory);
  }

  public Augmenter augmenter() {
    return augmenter;
  }

  public int threads() {
    return threads;
  }

  /**
   * Writes two views of each item: item i's query view at {@code outQ[i × C×S×S ..]}, its key view
   * at {@code outK[i × C×S×S ..]}. Blocks until done.
   */
  public void twoViews(List<Item> items, long seed, float[] outQ, float[] outK) {
    join(twoViewsAsync(items, seed, outQ, outK));
  }

  /**
   * Like {@link #twoViews} but returns at once; the arrays must not be read (or handed to another
   * call) before the future completes.
   */
  public CompletableFuture<Void> twoViewsAsync(
      List<Item> items, long seed, float[] outQ, float[] outK) {
    List<Item> batch = List.copyOf(items);
    int len = augmenter.viewLength();
    checkCapacity(outQ, batch.size(), "outQ");
    checkCapacity(outK, batch.size(), "outK");
    return forEachChunk(
        batch.size(),
        i -> {
          Item it = batch.get(i);
          augmenter.twoViews(
              it.image(), seed, it.partition(), it.offset(), outQ, i * len, outK, i * len);
        });
  }

  /**
   * Writes the un-augmented {@link Augmenter#center} view of each image, image i at {@code out[i ×
   * C×S×S ..]}.
   */
  public void center(List<DecodedImage> images, float[] out) {
    List<DecodedImage> batch = List.copyOf(images);
    int len = augmenter.viewLength();
    checkCapacity(out, batch.size(), "out");
    join(forEachChunk(batch.size(), i -> augmenter.center(batch.get(i), out, i * len)));
  }

  private interface IndexTask {
    void run(int i);
  }

  /** Splits 0..n-1 into contiguous chunks, one per thread at most. */
  private CompletableFuture<Void> forEachChunk(int n, IndexTask task) {
    int chunks = Math.max(1, Math.min(threads, n));
    List<CompletableFuture<Void>> parts = new ArrayList<>(chunks);
    for (int c = 0; c < chunks; c++) {
      int from = (int) ((long) n * c / chunks);
      int to = (int) ((long) n * (c + 1) / chunks);
      parts.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = from; i < to; i++) {
                  task.run(i);
                }
              },
              pool));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
  }

  private void checkCapacity(float[] out, int n, String name) {
    long need = (long) n * augmenter.viewLength();
    if (out == null || out.length < need) {
      throw new IllegalArgumentException(
          name
              + " must hold "
              + n
              + " views of "
              + augmenter.viewLength()
              + " floats ("
              + need
              + "), got "
              + (out == null ? "null" : out.length));
    }
  }

  private static void join(CompletableFuture<Void> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }

  /** Stops the worker threads; pending work is abandoned. */
  @Override
  public void close() {
    pool.shutdownNow();
  }
}
