package io.mocostream.trainer.stream;

import io.mocostream.schemas.EncoderVersion;

/** What a trainer tells its host (CLI progress, demo, tests) as it goes. Called on the training thread. */
public interface TrainerListener {

  /**
   * After every step.
   *
   * @param step          the step's number in the step log (1-based)
   * @param loss          its loss (NaN for a skipped step)
   * @param images        images that trained
   * @param rejected      frames routed to the dead-letter topic so far (this run)
   * @param skipped       steps skipped so far (this run) for a non-finite loss or too few usable frames
   * @param imagesPerSec  throughput since the last publish
   * @param lag           records behind the end of the frames topic, or -1 when unknown
   */
  default void onStep(long step, double loss, int images, long rejected, long skipped, double imagesPerSec, long lag) {}

  /** After a version and its checkpoint committed. */
  default void onPublished(EncoderVersion version) {}

  /** After a failed transaction was rolled back to the last checkpoint. */
  default void onRecovered(long step, String cause) {}
}
