package io.mocostream.producer;

import io.mocostream.frames.Reason;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.producer.publish.FramePublisher;
import io.mocostream.producer.publish.PublishException;
import io.mocostream.producer.publish.PublishedFrame;
import io.mocostream.producer.source.FrameSource;
import io.mocostream.producer.source.SourceEntry;
import io.mocostream.producer.source.SourceItem;
import io.mocostream.producer.validate.FrameValidator;
import io.mocostream.producer.validate.Refusal;
import io.mocostream.producer.validate.Verdict;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One produce run: frames are validated, published, counted; refusals are logged and counted per
 * reason.
 *
 * <p>Two ways to feed it: {@link #pull(FrameSource)} drains a source (with {@code --rate}, {@code
 * --max}, {@code --loop}); an upload endpoint pushes through {@link #publish} and {@link #refuse}
 * and waits in {@link #awaitStop()}. Either way the first send error stops the run (fail fast: a
 * broker or registry that is gone does not come back by retrying faster than the producer already
 * does) and surfaces as a {@link ProduceException} carrying the partial summary.
 */
public final class ProduceRun implements FrameEndpoint.Sink {
  private static final Logger log = LoggerFactory.getLogger(ProduceRun.class);

  /** How long draining may wait for acknowledgements beyond the producer's own delivery timeout. */
  private static final long DRAIN_MARGIN_MS = 10_000;

  /** --rate (images/s, 0 = unlimited), --max (0 = unlimited), --loop. */
  public record Settings(double rate, long max, boolean loop) {}

  private final String sourceDescription;
  private final FrameValidator validator;
  private final FramePublisher publisher;
  private final Settings settings;
  private final Progress progress;

  private final long startNanos = System.nanoTime();
  private final AtomicLong firstSendNanos = new AtomicLong();
  private volatile long lastAckNanos;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private final Map<Reason, LongAdder> refused = new EnumMap<>(Reason.class);
  private final AtomicLong refusedTotal = new AtomicLong();
  private final List<Refusal> firstRefusals = new ArrayList<>();
  private final AtomicReference<PublishException> failure = new AtomicReference<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile FrameSource pulling;

  /** Told each acknowledged send's latency, send to acknowledgement, in nanoseconds (metrics). */
  private volatile java.util.function.LongConsumer ackLatency = n -> {};

  ProduceRun(
      String sourceDescription,
      FrameValidator validator,
      FramePublisher publisher,
      Settings settings,
      Progress progress) {
    this.sourceDescription = sourceDescription;
    this.validator = validator;
    this.publisher = publisher;
    this.settings = settings;
    this.progress = progress;
    for (Reason r : Reason.values()) {
      refused.put(r, new LongAdder());
    }
  }

  /**
   * Drains {@code source} until it is exhausted (or, with loop, forever), {@code max} frames are
   * sent, or {@link #stop()}; then waits for every acknowledgement.
   */
  public ProduceSummary pull(FrameSource source) {
    pulling = source;
    Pacer pacer = settings.rate() > 0 ? new Pacer(settings.rate()) : null;
    long acceptedThisPass = 0;
    try {
      while (stopped.getCount() > 0 && (settings.max() <= 0 || sent.get() < settings.max())) {
        throwIfFailed();
        SourceEntry entry = source.next();
        if (entry == null) {
          if (stopped.getCount() == 0 || !settings.loop()) {
            break;
          }
          if (acceptedThisPass == 0) {
            log.warn("--loop: a full pass over {} published nothing; stopping", sourceDescription);
            break;
          }
          source.rewind();
          acceptedThisPass = 0;
          continue;
        }
        if (entry instanceof SourceEntry.Refused r) {
          refuse(r.refusal());
        } else if (entry instanceof SourceItem item) {
          Verdict v =
              validator.validate(
                  item.origin(), item.data(), item.contentType(), item.width(), item.height());
          if (v instanceof Refusal r) {
            refuse(r);
          } else if (v instanceof Verdict.Accepted a) {
            if (pacer != null) {
              pacer.await();
            }
            sent.incrementAndGet();
            send(item, a, null);
            acceptedThisPass++;
          }
        }
        progress.update(published.get(), refusedTotal());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      log.info("interrupted: finishing what was sent");
    } catch (IOException e) {
      if (stopped.getCount() == 0 && failure.get() == null) {
        log.debug("source ended while stopping: {}", e.toString());
        drain();
        return summary();
      }
      drainQuietly();
      throw new ProduceException(sourceDescription + ": " + e.getMessage(), e, summary());
    } finally {
      pulling = null;
    }
    drain();
    return summary();
  }

  /**
   * Publishes one validated frame (push mode); counts it when acknowledged. Fails once the run
   * stopped or hit max.
   */
  @Override
  public CompletableFuture<PublishedFrame> publish(SourceItem item, Verdict.Accepted accepted) {
    PublishException f = failure.get();
    if (f != null) {
      return CompletableFuture.failedFuture(f);
    }
    if (stopped.getCount() == 0) {
      return CompletableFuture.failedFuture(new IllegalStateException("the producer is stopping"));
    }
    // Concurrent uploads: reserve a place under --max before sending, so that no more than max are
    // ever sent.
    for (long n = sent.get(); ; n = sent.get()) {
      if (settings.max() > 0 && n >= settings.max()) {
        return CompletableFuture.failedFuture(
            new IllegalStateException("the producer reached --max " + settings.max()));
      }
      if (sent.compareAndSet(n, n + 1)) {
        break;
      }
    }
    CompletableFuture<PublishedFrame> result = new CompletableFuture<>();
    send(
        item,
        accepted,
        (p, error) -> {
          progress.update(published.get(), refusedTotal());
          if (settings.max() > 0 && published.get() >= settings.max()) {
            stop();
          }
          if (error == null) {
            result.complete(p);
          } else {
            result.completeExceptionally(error);
          }
        });
    return result;
  }

  /** Sends a frame whose place under --max is already counted in {@link #sent}. */
  private void send(SourceItem item, Verdict.Accepted accepted, FramePublisher.Outcome then) {
    inFlight.incrementAndGet();
    if (firstSendNanos.get() == 0) {
      firstSendNanos.compareAndSet(0, System.nanoTime());
    }
    long sentNanos = System.nanoTime();
    publisher.publish(
        item,
        accepted,
        (p, error) -> {
          if (error == null) {
            lastAckNanos = System.nanoTime();
            ackLatency.accept(lastAckNanos - sentNanos);
            published.incrementAndGet();
            bytes.addAndGet(p.bytes());
          } else if (failure.compareAndSet(null, error)) {
            log.error("{}", error.getMessage());
            stop();
          }
          if (then != null) {
            then.done(p, error);
          }
          if (inFlight.decrementAndGet() == 0) {
            synchronized (inFlight) {
              inFlight.notifyAll();
            }
          }
        });
  }

  /** Counts and logs a refused input (file and reason). */
  @Override
  public void refuse(Refusal r) {
    refused.get(r.reason()).increment();
    refusedTotal.incrementAndGet();
    synchronized (firstRefusals) {
      if (firstRefusals.size() < ProduceSummary.MAX_LISTED_REFUSALS) {
        firstRefusals.add(r);
      }
    }
    log.warn("refused {}: {} ({})", r.origin(), r.reason().code(), r.message());
  }

  /** Ends the run: a blocked source is closed, pushes are refused, {@link #awaitStop()} returns. */
  public void stop() {
    stopped.countDown();
    FrameSource s = pulling;
    if (s != null) {
      s.cancel();
    }
  }

  /**
   * Push mode: blocks until {@link #stop()}, max reached, or a send error; then drains and
   * summarises.
   */
  public ProduceSummary awaitStop() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    drain();
    return summary();
  }

  /** Flushes and waits for every outstanding acknowledgement, then throws if any send failed. */
  private void drain() {
    // An interrupted caller still gets its frames acknowledged (or failed) and counted: flush and
    // wait would
    // otherwise give up at once. The interrupt is restored afterwards.
    boolean interrupted = Thread.interrupted();
    try {
      awaitAcks();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void awaitAcks() {
    publisher.flush();
    long deadline =
        System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(publisher.deliveryTimeoutMs() + DRAIN_MARGIN_MS);
    synchronized (inFlight) {
      while (inFlight.get() > 0 && System.nanoTime() < deadline) {
        try {
          inFlight.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    progress.update(published.get(), refusedTotal());
    throwIfFailed();
    if (inFlight.get() > 0) {
      throw new ProduceException(
          inFlight.get() + " frames still unacknowledged after the delivery timeout",
          null,
          summary());
    }
  }

  private void drainQuietly() {
    try {
      drain();
    } catch (RuntimeException e) {
      log.debug("draining after an error: {}", e.toString());
    }
  }

  private void throwIfFailed() {
    PublishException f = failure.get();
    if (f != null) {
      throw new ProduceException(f.getMessage(), f, summary());
    }
  }

  long refusedTotal() {
    return refusedTotal.get();
  }

  // ---- for metrics (ProducerMetrics): any thread
  // ----------------------------------------------------------------

  /** Frames acknowledged by the broker. */
  public long published() {
    return published.get();
  }

  /** Value bytes of the acknowledged frames. */
  public long bytesPublished() {
    return bytes.get();
  }

  /** Inputs refused for {@code reason}. */
  public long refused(Reason reason) {
    return refused.get(reason).sum();
  }

  /** Frames sent and not yet acknowledged. */
  public long inFlight() {
    return inFlight.get();
  }

  /** Whether the run still takes frames: not stopped, no send failed. */
  public boolean active() {
    return stopped.getCount() > 0 && failure.get() == null;
  }

  /** Where each acknowledged send's latency (nanoseconds) goes. */
  public void onAckLatency(java.util.function.LongConsumer sink) {
    ackLatency = sink == null ? n -> {} : sink;
  }

  public ProduceSummary summary() {
    Map<Reason, Long> counts = new EnumMap<>(Reason.class);
    refused.forEach((r, a) -> counts.put(r, a.sum()));
    List<Refusal> listed;
    synchronized (firstRefusals) {
      listed = List.copyOf(firstRefusals);
    }
    long end = published.get() > 0 ? lastAckNanos : System.nanoTime();
    long first = firstSendNanos.get();
    double span = first == 0 || published.get() == 0 ? 0 : (end - first) / 1e9;
    return new ProduceSummary(
        sourceDescription,
        publisher.topic(),
        published.get(),
        bytes.get(),
        counts,
        listed,
        (System.nanoTime() - startNanos) / 1e9,
        span);
  }

  /**
   * Spaces sends {@code 1/rate} apart by parking the thread (no busy wait). A pacer that fell
   * behind (slow source, broker back-pressure) restarts from now instead of bursting to catch up.
   * Hand-written: Guava's RateLimiter is not a dependency, and Kafka's ThroughputThrottler is an
   * internal class.
   */
  static final class Pacer {
    private final long intervalNanos;
    private long next = System.nanoTime();

    Pacer(double rate) {
      this.intervalNanos = Math.max(1, (long) (1e9 / rate));
    }

    void await() throws InterruptedException {
      long now = System.nanoTime();
      if (next < now) {
        next = now;
      }
      while ((now = System.nanoTime()) < next) {
        LockSupport.parkNanos(next - now);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
      }
      next += intervalNanos;
    }
  }
}
