package io.mocostream.trainer.stream;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forms and prepares the next micro-batches on its own thread while the trainer computes the current step, so
 * that consuming, decoding and augmenting hide behind compute. It owns the consumer (KafkaConsumer is not
 * thread-safe), starting at explicit positions: the trainer's last checkpoint, never the consumer's own idea.
 *
 * <p>A batch closes when it holds {@code batch.size} usable frames, or when {@code max.wait.ms} passed since its
 * first record and it holds at least {@code batch.min} usable frames. Rejected frames ride along in the batch
 * (they are routed to the dead-letter topic in the step's transaction), so that every consumed offset belongs to
 * exactly one step. A batch also closes, with fewer usable frames, once it holds {@link #MAX_RECORDS_FACTOR}×
 * {@code batch.size} records, so that a run of bad frames cannot grow it without bound.
 */
final class Prefetcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Prefetcher.class);
  static final int MAX_RECORDS_FACTOR = 4;

  private final Consumer<byte[], byte[]> consumer;
  private final BatchPreparer preparer;
  private final int batchSize;
  private final int minBatch;
  private final long maxWaitNanos;
  private final BlockingQueue<PreparedBatch> ready;
  private final Thread thread;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicLong lag = new AtomicLong(-1);
  private volatile boolean running = true;

  /**
   * @param depth how many prepared batches may wait for the trainer (1 = classic double buffering)
   */
  Prefetcher(Consumer<byte[], byte[]> consumer, BatchPreparer preparer, TrainerConfig config,
      Map<TopicPartition, Long> start, int depth) {
    this.consumer = consumer;
    this.preparer = preparer;
    this.batchSize = config.batchSize();
    this.minBatch = config.minBatch();
    this.maxWaitNanos = config.maxWait().toNanos();
    this.ready = new ArrayBlockingQueue<>(depth);
    consumer.assign(start.keySet());
    start.forEach(consumer::seek);
    this.thread = new Thread(this::loop, "trainer-prefetch");
    thread.setDaemon(true);
    thread.start();
  }

  /** The next prepared batch, or null if none is ready within {@code timeout}. Rethrows the thread's failure. */
  PreparedBatch next(Duration timeout) throws InterruptedException {
    PreparedBatch b = ready.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    Throwable t = failure.get();
    if (b == null && t != null) {
      throw new IllegalStateException("preparing batches failed: " + t.getMessage(), t);
    }
    return b;
  }

  /** Records behind the end of the frames topic (last known), or -1 before the first measurement. */
  long lag() {
    return lag.get();
  }

  private void loop() {
    ArrayDeque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();
    try {
      while (running) {
        List<BatchPreparer.Checked> batch = new ArrayList<>(batchSize);
        int usable = 0;
        long first = 0;
        while (running && usable < batchSize && batch.size() < MAX_RECORDS_FACTOR * batchSize) {
          if (pending.isEmpty()) {
            long waitMs = batch.isEmpty() ? 200 : Math.max(1, (maxWaitNanos - (System.nanoTime() - first)) / 1_000_000);
            poll(Duration.ofMillis(Math.min(waitMs, 200))).forEach(pending::add);
            measureLag();
          }
          if (!pending.isEmpty()) {
            if (batch.isEmpty()) {
              first = System.nanoTime();
            }
            BatchPreparer.Checked c = preparer.check(pending.poll());
            batch.add(c);
            usable += c.usable() ? 1 : 0;
          }
          if (!batch.isEmpty() && usable >= minBatch && System.nanoTime() - first >= maxWaitNanos) {
            break;
          }
        }
        if (!running) {
          return;
        }
        PreparedBatch prepared = preparer.prepare(batch);
        while (running && !ready.offer(prepared, 100, TimeUnit.MILLISECONDS)) {
          // the trainer is busy with a step: wait (this is the back-pressure that bounds memory)
        }
      }
    } catch (WakeupException | InterruptedException e) {
      // closing
    } catch (Throwable t) {
      if (running) {
        log.error("batch preparation stopped: {}", t.toString());
        failure.set(t);
      }
    }
  }

  /**
   * {@code consumer.poll}, except that a wakeup meant for an earlier prefetcher on the same consumer is dropped: a
   * {@link #close} that found its thread outside {@code poll} leaves the wakeup pending, and the trainer's recovery
   * then hands the consumer to a new prefetcher whose first poll would take it for its own close.
   */
  private ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
    try {
      return consumer.poll(timeout);
    } catch (WakeupException e) {
      if (running) {
        log.debug("dropped a wakeup left over from a closed prefetcher");
        return ConsumerRecords.empty();
      }
      throw e;
    }
  }

  private long lastLagCheck;

  private void measureLag() {
    long now = System.nanoTime();
    if (now - lastLagCheck < 1_000_000_000L) {
      return;
    }
    lastLagCheck = now;
    long total = 0;
    for (TopicPartition tp : consumer.assignment()) {
      var l = consumer.currentLag(tp);
      if (l.isEmpty()) {
        return;
      }
      total += l.getAsLong();
    }
    lag.set(total);
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ready.clear();
  }
}
