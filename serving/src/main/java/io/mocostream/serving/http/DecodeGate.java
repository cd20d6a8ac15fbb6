package io.mocostream.serving.http;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many images are decoded and embedded at once. Each may take up to {@value #BYTES_PER_PIXEL}
 * bytes per pixel of the pixel limit (ImageIO's raster up to 8 bytes per pixel for 16-bit RGBA,
 * plus the 3-byte RGB copy the encoder reads), so sixteen workers each decoding a 16 Mpx image
 * would want ~4 GiB at once: the gate admits only as many as half the heap holds at that worst
 * case, at least one and at most one per worker.
 */
final class DecodeGate {
  /** Worst-case heap per decoded pixel, rounded up. */
  static final long BYTES_PER_PIXEL = 16;

  private final int permits;
  private final Semaphore semaphore;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();

  DecodeGate(int permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("decode permits must be ≥ 1, got " + permits);
    }
    this.permits = permits;
    this.semaphore = new Semaphore(permits, true);
  }

  /**
   * Permits for a heap of {@code maxHeap} bytes, images of up to {@code maxPixels} and {@code
   * threads} workers.
   */
  static int permitsFor(long maxHeap, long maxPixels, int threads) {
    long fit = (maxHeap / 2) / Math.max(1, maxPixels * BYTES_PER_PIXEL);
    return (int) Math.max(1, Math.min(threads, fit));
  }

  /**
   * Waits up to {@code timeoutMillis} for a permit; false when none came (the caller answers 503).
   */
  boolean enter(long timeoutMillis) throws InterruptedException {
    if (!semaphore.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
      return false;
    }
    peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    return true;
  }

  void exit() {
    inFlight.decrementAndGet();
    semaphore.release();
  }

  int permits() {
    return permits;
  }

  int inFlight() {
    return inFlight.get();
  }

  /** The most decodes ever in flight at once. */
  int peak() {
    return peak.get();
  }
}
