package io.mocostream.trainer.stream;

import io.mocostream.frames.RegistryUnavailableException;
import io.mocostream.schemas.StepSegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forms and prepares the next micro-batches on its own thread while the trainer computes the
 * current step, so that consuming, decoding and augmenting hide behind compute. It owns the
 * consumer (KafkaConsumer is not thread-safe), starting at explicit positions: the trainer's last
 * checkpoint, never the consumer's own idea.
 *
 * <p>A batch closes when it holds {@code batch.size} usable frames, or when {@code max.wait.ms}
 * passed since its first record and it holds at least {@code batch.min} usable frames. Rejected
 * frames ride along in the batch (they are routed to the dead-letter topic in the step's
 * transaction), so that every consumed offset belongs to exactly one step. A batch also closes,
 * with fewer usable frames, once it holds {@link #MAX_RECORDS_FACTOR}× {@code batch.size} records,
 * so that a run of bad frames cannot grow it without bound, or once {@code max.wait.ms} passed with
 * no usable frame at all (a dead-letter-only step). A registry outage pauses it on the record it
 * was reading; a position below the log start (retention) is a recorded gap; partitions added to
 * the topic are read from their start within {@code trainer.partitions.check.ms}.
 */
final class Prefetcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Prefetcher.class);
  static final int MAX_RECORDS_FACTOR = 4;
  static final long MAX_REGISTRY_BACKOFF_MS = 10_000;

  private final Consumer<byte[], byte[]> consumer;
  private final BatchPreparer preparer;
  private final int batchSize;
  private final int minBatch;
  private final long maxWaitNanos;
  private final BlockingQueue<PreparedBatch> ready;
  private final Thread thread;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicLong lag = new AtomicLong(-1);
  private volatile Map<TopicPartition, Long> endOffsets = Map.of();
  private final AtomicLong registryWaits = new AtomicLong();
  private final long partitionsCheckNanos;

  /** Retention gaps found since the last batch was handed over (prefetch thread only). */
  private final List<StepSegment> gaps = new ArrayList<>();

  private volatile boolean running = true;

  /**
   * @param depth how many prepared batches may wait for the trainer (1 = classic double buffering)
   */
  Prefetcher(
      Consumer<byte[], byte[]> consumer,
      BatchPreparer preparer,
      TrainerConfig config,
      Map<TopicPartition, Long> start,
      int depth) {
    this.consumer = consumer;
    this.preparer = preparer;
    this.batchSize = config.batchSize();
    this.minBatch = config.minBatch();
    this.maxWaitNanos = config.maxWait().toNanos();
    this.partitionsCheckNanos = config.partitionsCheck().toNanos();
    this.ready = new ArrayBlockingQueue<>(depth);
    consumer.assign(start.keySet());
    start.forEach(consumer::seek);
    this.thread = new Thread(this::loop, "trainer-prefetch");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * The next prepared batch, or null if none is ready within {@code timeout}. Rethrows the thread's
   * failure.
   */
  PreparedBatch next(Duration timeout) throws InterruptedException {
    PreparedBatch b = ready.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    Throwable t = failure.get();
    if (b == null && t != null) {
      throw new IllegalStateException("preparing batches failed: " + t.getMessage(), t);
    }
    return b;
  }

  /**
   * The end (last stable) offset of each assigned partition as the consumer's fetches last reported
   * it: its position plus its {@code currentLag}. Empty before the first measurement. Any thread.
   */
  Map<TopicPartition, Long> endOffsets() {
    return endOffsets;
  }

  /**
   * Records behind the end of the frames topic (last known), or -1 before the first measurement.
   */
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
            long waitMs =
                batch.isEmpty()
                    ? 200
                    : Math.max(1, (maxWaitNanos - (System.nanoTime() - first)) / 1_000_000);
            checkPartitions();
            poll(Duration.ofMillis(Math.min(waitMs, 200))).forEach(pending::add);
            measureLag();
          }
          if (!pending.isEmpty()) {
            if (batch.isEmpty()) {
              first = System.nanoTime();
            }
            BatchPreparer.Checked c = checkRetrying(pending.peek());
            if (c == null) {
              return; // closed while the registry was away
            }
            pending.poll();
            batch.add(c);
            usable += c.usable() ? 1 : 0;
          }
          boolean waited = !batch.isEmpty() && System.nanoTime() - first >= maxWaitNanos;
          // A batch of nothing but rejections closes too: its dead letters are committed as a step
          // of their own
          // rather than waiting for good frames that may never come.
          if (waited && (usable >= minBatch || usable == 0)) {
            break;
          }
        }
        if (!running) {
          return;
        }
        PreparedBatch prepared = preparer.prepare(batch).withGaps(gaps);
        gaps.clear();
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
   * Checks one record; while the schema registry cannot be asked, waits and asks again, with
   * backoff, for the same record: an outage is not the record's fault, and a good frame must not be
   * dead-lettered for it. Null when closed meanwhile.
   */
  private BatchPreparer.Checked checkRetrying(ConsumerRecord<byte[], byte[]> record)
      throws InterruptedException {
    long backoffMs = 200;
    long since = 0;
    while (running) {
      try {
        BatchPreparer.Checked c = preparer.check(record);
        if (since != 0) {
          log.warn(
              "schema registry back after {} ms; reading {}-{}@{} again",
              (System.nanoTime() - since) / 1_000_000,
              record.topic(),
              record.partition(),
              record.offset());
        }
        return c;
      } catch (RegistryUnavailableException e) {
        if (since == 0) {
          since = System.nanoTime();
        }
        registryWaits.incrementAndGet();
        log.warn(
            "schema registry unavailable at {}-{}@{}; pausing {} ms and retrying the same record ({})",
            record.topic(),
            record.partition(),
            record.offset(),
            backoffMs,
            e.getMessage());
        Thread.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_REGISTRY_BACKOFF_MS);
      }
    }
    return null;
  }

  /** Times the prefetcher paused for an unavailable registry. */
  long registryWaits() {
    return registryWaits.get();
  }

  private long lastPartitionCheck;

  /**
   * Every {@code trainer.partitions.check.ms}, reads the frames topics' partitions from the
   * consumer's metadata (refreshed as often, see the consumer's {@code metadata.max.age.ms}) and
   * starts reading any new one at its beginning, without a restart.
   */
  private void checkPartitions() {
    long now = System.nanoTime();
    if (now - lastPartitionCheck < partitionsCheckNanos) {
      return;
    }
    lastPartitionCheck = now;
    Set<TopicPartition> assigned = consumer.assignment();
    Set<String> topics = new TreeSet<>();
    assigned.forEach(tp -> topics.add(tp.topic()));
    Set<TopicPartition> added = new HashSet<>();
    for (String topic : topics) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
      for (PartitionInfo p : infos == null ? List.<PartitionInfo>of() : infos) {
        TopicPartition tp = new TopicPartition(p.topic(), p.partition());
        if (!assigned.contains(tp)) {
          added.add(tp);
        }
      }
    }
    if (!added.isEmpty()) {
      Set<TopicPartition> all = new HashSet<>(assigned);
      all.addAll(added);
      consumer.assign(all);
      added.forEach(
          tp -> consumer.seek(tp, 0)); // as a restart would: new partitions from their first offset
      log.warn("frames topic grew: now reading new partition(s) {} from their start", added);
    }
  }

  /**
   * {@code consumer.poll}, except that a wakeup meant for an earlier prefetcher on the same
   * consumer is dropped: a {@link #close} that found its thread outside {@code poll} leaves the
   * wakeup pending, and the trainer's recovery then hands the consumer to a new prefetcher whose
   * first poll would take it for its own close.
   */
  private ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
    try {
      return consumer.poll(timeout);
    } catch (OffsetOutOfRangeException e) {
      retentionGap(e.offsetOutOfRangePartitions());
      return ConsumerRecords.empty();
    } catch (WakeupException e) {
      if (running) {
        log.debug("dropped a wakeup left over from a closed prefetcher");
        return ConsumerRecords.empty();
      }
      throw e;
    }
  }

  /**
   * The consumer's position fell below a partition's log start ({@code auto.offset.reset=none}
   * makes that an exception, never a silent jump): retention deleted frames this trainer had not
   * read. Said loudly, recorded in the next step's log entry, and reading goes on from the log
   * start.
   */
  private void retentionGap(Map<TopicPartition, Long> outOfRange) {
    Map<TopicPartition, Long> start =
        consumer.beginningOffsets(outOfRange.keySet(), Duration.ofSeconds(30));
    for (Map.Entry<TopicPartition, Long> e : outOfRange.entrySet()) {
      TopicPartition tp = e.getKey();
      long from = e.getValue();
      long logStart = start.getOrDefault(tp, 0L);
      if (from < logStart) {
        log.error(
            "RETENTION GAP on {}: offsets {}..{} ({} frames) were deleted before this trainer read them; they"
                + " are neither trained nor dead-lettered. Continuing from the log start {} (recorded in the step log)",
            tp,
            from,
            logStart - 1,
            logStart - from,
            logStart);
        gaps.add(new StepSegment(tp.topic(), tp.partition(), from, logStart));
      } else {
        log.error(
            "position {} of {} is beyond its log (start {}): the topic was deleted and recreated? Reading it"
                + " from its start",
            from,
            tp,
            logStart);
      }
      consumer.seek(tp, logStart);
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
    Map<TopicPartition, Long> ends = new java.util.HashMap<>();
    for (TopicPartition tp : consumer.assignment()) {
      var l = consumer.currentLag(tp);
      if (l.isEmpty()) {
        return;
      }
      total += l.getAsLong();
      ends.put(tp, consumer.position(tp) + l.getAsLong());
    }
    lag.set(total);
    endOffsets = Map.copyOf(ends);
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
