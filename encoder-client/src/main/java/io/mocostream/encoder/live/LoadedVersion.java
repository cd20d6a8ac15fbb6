package io.mocostream.encoder.live;

import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.model.Encoder;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A version loaded and ready to serve, reference-counted: the live encoder holds one reference
 * while the version serves, each request one while it computes. The encoder's native arrays are
 * freed when the last reference goes, so a version retired by a swap finishes the requests already
 * using it and is closed after them.
 */
final class LoadedVersion {
  final CurrentVersion info;
  final Encoder encoder;

  /** Centre crop, resize and the trainer's normalisation for this version's input geometry. */
  final Augmenter preprocess;

  private final Runnable onClosed;
  private final AtomicInteger refs = new AtomicInteger(1); // the serving reference

  LoadedVersion(CurrentVersion info, Encoder encoder, Runnable onClosed) {
    this.info = info;
    this.encoder = encoder;
    this.preprocess =
        new Augmenter(
            AugmentConfig.mocoV2(info.architecture().inputSize(), info.architecture().channels()));
    this.onClosed = onClosed;
  }

  /** Takes a reference unless the version is already closed (count 0: it cannot come back). */
  boolean tryAcquire() {
    for (; ; ) {
      int r = refs.get();
      if (r == 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /** Drops a reference; the last one closes the encoder. */
  void release() {
    int r = refs.decrementAndGet();
    if (r == 0) {
      encoder.close();
      onClosed.run();
    } else if (r < 0) {
      throw new IllegalStateException(
          "version " + info.version() + " released more often than acquired");
    }
  }

  /** References held now (serving + requests in flight); 0 once closed. */
  int references() {
    return refs.get();
  }
}
