package io.mocostream.trainer.moco;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * MoCo's contrastive loss: for each query, softmax cross-entropy over [positive key, negatives]
 * with the positive at index 0,
 *
 * <pre>
 *   L = −1/N Σ_i log( exp(q_i·k_i/T) / (exp(q_i·k_i/T) + Σ_j exp(q_i·n_j/T)) )
 * </pre>
 *
 * All arrays are created from {@code q} first, so every intermediate belongs to q's (step) scope.
 *
 * <p>The temperature is an array in q's manager, never a Java number: for {@code x.div(0.2f)} DJL
 * wraps the number in a tensor over a direct buffer that it closes when the op returns, while
 * autograd keeps that tensor for the backward pass (∂(x/T)/∂x = 1/T reads T). Once the buffer was
 * collected and its memory reused, the backward pass scaled the gradient by whatever lay there:
 * finite loss, wrong or non-finite gradient, at random (see {@code InfoNceGradientTest}). An array
 * in q's manager lives until the step's scope closes, after the backward pass.
 */
public final class InfoNce {

  private InfoNce() {}

  /**
   * @param q queries, N×D, L2-normalised, with autograd history
   * @param k positive keys, N×D, L2-normalised, no history
   * @param negatives negative keys D×M (the queue's filled part), or null for none
   * @param logitMask additive mask N×M (0 or −∞), or null
   * @param temperature T
   * @return the mean loss, a scalar
   */
  public static NDArray loss(
      NDArray q, NDArray k, NDArray negatives, NDArray logitMask, float temperature) {
    NDArray logits = q.mul(k).sum(new int[] {1}, true); // l_pos: N×1
    if (negatives != null) {
      NDArray negative = q.matMul(negatives); // l_neg: N×M
      if (logitMask != null) {
        negative = negative.add(logitMask); // masked negatives: −∞, weight exp(−∞) = 0
      }
      logits = logits.concat(negative, 1); // logits: N×(1+M)
    }
    NDArray t = q.getManager().create(temperature); // T: scalar, kept alive for the backward pass
    logits = logits.div(t);
    // label 0 for every row: the loss is −log softmax(logits)[:, 0]
    return logits.logSoftmax(1).get(new NDIndex(":, 0")).neg().mean();
  }
}
