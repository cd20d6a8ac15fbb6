package io.mocostream.trainer.optim;

/**
 * A learning-rate schedule: the rate to use for a given optimizer step (0-based).
 *
 * <p>Choice for streams: a stream has no last epoch, so MoCo's cosine decay to zero over a fixed
 * run ({@link #cosine}) does not apply; decaying to zero would also stop the encoder adapting to a
 * drifting feed. The default is {@link #warmupConstant}: a linear warm-up (the queue starts empty
 * and BatchNorm statistics are fresh, so the first steps are the noisiest) followed by a constant
 * rate, which keeps the encoder tracking the stream. {@link #warmupCyclic} (cosine cycles
 * restarting at the base rate, as SGDR) gives periodic low-rate phases where a snapshot is good,
 * for runs that publish encoder versions on a cycle. {@link #cosine} is MoCo's schedule for bounded
 * runs (a replayed dataset).
 */
public interface LearningRate {

  /** The learning rate at optimizer step {@code step} (0-based). */
  float at(long step);

  static LearningRate constant(float lr) {
    return new WarmupConstant(lr, 0);
  }

  /** Linear warm-up from lr/warmupSteps to lr over {@code warmupSteps}, then constant. */
  static LearningRate warmupConstant(float lr, long warmupSteps) {
    return new WarmupConstant(lr, warmupSteps);
  }

  /**
   * Linear warm-up, then cosine cycles of {@code cycleSteps}: each goes from lr down to {@code
   * minLr} and restarts.
   */
  static LearningRate warmupCyclic(float lr, long warmupSteps, long cycleSteps, float minLr) {
    return new WarmupCyclic(lr, warmupSteps, cycleSteps, minLr);
  }

  /**
   * MoCo's schedule for a bounded run: lr·½(1 + cos(π·t/total)) after an optional linear warm-up.
   */
  static LearningRate cosine(float lr, long warmupSteps, long totalSteps) {
    return new Cosine(lr, warmupSteps, totalSteps);
  }

  private static float warmup(float lr, long warmupSteps, long step) {
    return lr * (step + 1) / warmupSteps;
  }

  private static void check(float lr, long warmupSteps) {
    if (!(lr > 0) || !Float.isFinite(lr)) {
      throw new IllegalArgumentException("learning rate " + lr + " must be finite and > 0");
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warm-up steps " + warmupSteps + " must be >= 0");
    }
  }

  /** See {@link LearningRate#warmupConstant}. */
  record WarmupConstant(float lr, long warmupSteps) implements LearningRate {
    public WarmupConstant {
      check(lr, warmupSteps);
    }

    @Override
    public float at(long step) {
      return step < warmupSteps ? warmup(lr, warmupSteps, step) : lr;
    }
  }

  /** See {@link LearningRate#warmupCyclic}. */
  record WarmupCyclic(float lr, long warmupSteps, long cycleSteps, float minLr)
      implements LearningRate {
    public WarmupCyclic {
      check(lr, warmupSteps);
      if (cycleSteps < 1) {
        throw new IllegalArgumentException("cycle steps " + cycleSteps + " must be >= 1");
      }
      if (minLr < 0 || minLr > lr) {
        throw new IllegalArgumentException(
            "minimum learning rate " + minLr + " must be in [0, " + lr + "]");
      }
    }

    @Override
    public float at(long step) {
      if (step < warmupSteps) {
        return warmup(lr, warmupSteps, step);
      }
      double phase = (double) ((step - warmupSteps) % cycleSteps) / cycleSteps;
      return (float) (minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * phase)));
    }
  }

  /** See {@link LearningRate#cosine}. */
  record Cosine(float lr, long warmupSteps, long totalSteps) implements LearningRate {
    public Cosine {
      check(lr, warmupSteps);
      if (totalSteps <= warmupSteps) {
        throw new IllegalArgumentException(
            "total steps " + totalSteps + " must exceed warm-up steps " + warmupSteps);
      }
    }

    @Override
    public float at(long step) {
      if (step < warmupSteps) {
        return warmup(lr, warmupSteps, step);
      }
      double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
      return (float) (lr * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
  }
}
