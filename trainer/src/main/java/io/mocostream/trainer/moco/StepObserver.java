package io.mocostream.trainer.moco;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * What a test may watch inside {@link MocoEngine#step} (the parity test compares each with the
 * reference; the GC test collects garbage between forward and backward). The arrays belong to the
 * step: read them, do not keep them.
 */
interface StepObserver {

  StepObserver NONE = new StepObserver() {};

  /** Keys of view {@code view} (0: k2 = f_k(im2), 1: k1 = f_k(im1)), N×D. */
  default void keys(int view, NDArray k) {}

  /** Queries of view {@code view} (0: q1 = f_q(im1), 1: q2 = f_q(im2)), N×D. */
  default void queries(int view, NDArray q) {}

  /** After the forward pass, before the backward pass. */
  default void beforeBackward() {}

  /**
   * After the backward pass, before any clip and the update: the query encoder's trainable arrays.
   */
  default void gradients(List<NDArray> weights) {}
}
