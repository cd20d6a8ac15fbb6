package io.mocostream.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * SGD with momentum and weight decay in PyTorch's form ({@code torch.optim.SGD}, dampening 0, no
 * Nesterov), as MoCo trains with:
 *
 * <pre>
 *   d   = g + wd·w
 *   buf = μ·buf + d        (buf starts at 0, so the first step stores d exactly, like PyTorch's clone)
 *   w   = w − lr·buf
 * </pre>
 *
 * Written by hand because DJL's {@code Sgd} folds the learning rate into the buffer ({@code buf =
 * μ·buf + lr·d}), which equals PyTorch's only at a constant rate, and because {@code Trainer.step}
 * copies every gradient each step. Updates run in place on the parameter arrays; gradients are
 * zeroed after use (PyTorch's autograd accumulates).
 */
public final class Sgd {

  private final List<NDArray> parameters;
  private final List<NDArray> buffers = new ArrayList<>();
  private final float momentum;
  private final float weightDecay;

  /**
   * @param manager long-lived manager that owns the momentum buffers
   * @param parameters trainable arrays, each with a gradient attached
   */
  public Sgd(NDManager manager, List<NDArray> parameters, float momentum, float weightDecay) {
    if (momentum < 0 || momentum >= 1) {
      throw new IllegalArgumentException("SGD momentum " + momentum + " must be in [0, 1)");
    }
    if (weightDecay < 0 || !Float.isFinite(weightDecay)) {
      throw new IllegalArgumentException(
          "weight decay " + weightDecay + " must be finite and >= 0");
    }
    this.parameters = List.copyOf(parameters);
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    for (NDArray p : parameters) {
      buffers.add(manager.zeros(p.getShape(), p.getDataType(), p.getDevice()));
    }
  }

  /**
   * Applies one update with learning rate {@code lr} from the gradients autograd left on the
   * parameters, then zeroes those gradients. Temporaries live in {@code scope}.
   */
  /**
   * True when every gradient is finite. A finite loss does not guarantee it (an overflow inside the
   * backward pass), and one non-finite gradient poisons the weights for good. One reduction per
   * parameter, summed on the host.
   */
  public boolean gradientsFinite(NDManager scope) {
    return Double.isFinite(gradientNorm(scope));
  }

  /** Global L2 norm of all gradients: √Σg²; NaN or ∞ when any element is not finite. */
  public double gradientNorm(NDManager scope) {
    double squares = 0;
    for (NDArray w : parameters) {
      NDArray g = w.getGradient();
      g.attach(scope);
      float norm = g.norm().getFloat(); // one pass, no temporary copy of g
      squares += (double) norm * norm;
    }
    return Math.sqrt(squares);
  }

  /** Multiplies every gradient by {@code factor}, in place (gradient clipping). */
  public void scaleGradients(float factor, NDManager scope) {
    for (NDArray w : parameters) {
      NDArray g = w.getGradient();
      g.attach(scope);
      g.muli(factor);
    }
  }

  /** Clears the gradients without updating anything (a skipped step). */
  public void zeroGradients(NDManager scope) {
    for (NDArray w : parameters) {
      NDArray g = w.getGradient();
      g.attach(scope);
      g.set(new NDIndex("..."), 0f);
    }
  }

  public void step(float lr, NDManager scope) {
    for (int i = 0; i < parameters.size(); i++) {
      NDArray w = parameters.get(i);
      NDArray buf = buffers.get(i);
      NDArray g =
          w.getGradient(); // a new handle on w's gradient: owned by the step scope, closed with it
      g.attach(scope);
      if (weightDecay != 0) {
        try (NDArray decay = w.mul(weightDecay)) {
          g.addi(decay); // d = g + wd·w
        }
      }
      buf.muli(momentum).addi(g); // buf = μ·buf + d
      try (NDArray update = buf.mul(lr)) {
        w.subi(update); // w = w − lr·buf
      }
      g.set(new NDIndex("..."), 0f); // fill, not g−g: a NaN gradient must not survive
    }
  }

  /** The momentum buffers, aligned with the parameters (for saving and restoring state). */
  public List<NDArray> buffers() {
    return List.copyOf(buffers);
  }

  public float momentum() {
    return momentum;
  }

  public float weightDecay() {
    return weightDecay;
  }
}
