package io.mocostream.trainer.stream;

import io.mocostream.frames.Reason;
import io.mocostream.schemas.EncoderVersion;

/**
 * What a trainer tells its host (CLI progress, demo, tests) as it goes. Called on the training
 * thread.
 */
public interface TrainerListener {

  /**
   * After every step.
   *
   * @param step the step's number in the step log (1-based)
   * @param loss its loss (NaN for a skipped step)
   * @param images images that trained
   * @param rejected frames routed to the dead-letter topic so far (this run)
   * @param skipped steps skipped so far (this run) for a non-finite loss or too few usable frames
   * @param imagesPerSec throughput since the last publish
   * @param lag records behind the end of the frames topic, or -1 when unknown
   */
  default void onStep(
      long step,
      double loss,
      int images,
      long rejected,
      long skipped,
      double imagesPerSec,
      long lag) {}

  /** After a version and its checkpoint committed. */
  default void onPublished(EncoderVersion version) {}

  /** After a failed transaction was rolled back to the last checkpoint. */
  default void onRecovered(long step, String cause) {}

  // ---- for metrics (TrainerMetrics); hosts that only print progress ignore these
  // -----------------------------------

  /**
   * Once the trainer has restored its state (or started anew) and its consumer is assigned every
   * frame partition.
   */
  default void onReady(long step, long version) {}

  /**
   * A transaction failed: the trainer rolls back and waits for the broker ({@link #onRecovered}
   * follows).
   */
  default void onRecovering(String cause) {}

  /** One frame went to the dead-letter topic (in the transaction of the step it belonged to). */
  default void onDeadLetter(Reason reason) {}

  /**
   * A step trained nothing: {@code nonFinite} for a non-finite loss or gradients, else too few
   * usable frames.
   */
  default void onStepSkipped(boolean nonFinite) {}

  /**
   * After a step: the negatives queue's filled slots and how far back its oldest key goes.
   *
   * @param oldestStep step that enqueued the oldest key (-1 while empty)
   * @param oldestTimestampMs record timestamp of the oldest key's frame (-1 while empty or unknown)
   */
  default void onQueue(int size, int capacity, long oldestStep, long oldestTimestampMs) {}

  /**
   * After a commit: how long publishing the version (kNN, weights, chunks) and the whole commit
   * (publish, checkpoint, offsets, commitTransaction) took.
   */
  default void onCommitTimings(long publishNanos, long commitNanos) {}

  /** Both listeners, {@code first} then {@code second}. */
  static TrainerListener both(TrainerListener first, TrainerListener second) {
    if (first == null) {
      return second;
    }
    if (second == null) {
      return first;
    }
    return new TrainerListener() {
      @Override
      public void onStep(
          long step,
          double loss,
          int images,
          long rejected,
          long skipped,
          double imagesPerSec,
          long lag) {
        first.onStep(step, loss, images, rejected, skipped, imagesPerSec, lag);
        second.onStep(step, loss, images, rejected, skipped, imagesPerSec, lag);
      }

      @Override
      public void onPublished(EncoderVersion version) {
        first.onPublished(version);
        second.onPublished(version);
      }

      @Override
      public void onRecovered(long step, String cause) {
        first.onRecovered(step, cause);
        second.onRecovered(step, cause);
      }

      @Override
      public void onReady(long step, long version) {
        first.onReady(step, version);
        second.onReady(step, version);
      }

      @Override
      public void onRecovering(String cause) {
        first.onRecovering(cause);
        second.onRecovering(cause);
      }

      @Override
      public void onDeadLetter(Reason reason) {
        first.onDeadLetter(reason);
        second.onDeadLetter(reason);
      }

      @Override
      public void onStepSkipped(boolean nonFinite) {
        first.onStepSkipped(nonFinite);
        second.onStepSkipped(nonFinite);
      }

      @Override
      public void onQueue(int size, int capacity, long oldestStep, long oldestTimestampMs) {
        first.onQueue(size, capacity, oldestStep, oldestTimestampMs);
        second.onQueue(size, capacity, oldestStep, oldestTimestampMs);
      }

      @Override
      public void onCommitTimings(long publishNanos, long commitNanos) {
        first.onCommitTimings(publishNanos, commitNanos);
        second.onCommitTimings(publishNanos, commitNanos);
      }
    };
  }
}
