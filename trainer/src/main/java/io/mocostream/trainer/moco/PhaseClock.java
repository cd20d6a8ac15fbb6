package io.mocostream.trainer.moco;

import java.util.function.Supplier;

/**
 * Wall time of a step's phases: the engine's helpers run their work through {@link #time}, which
 * adds its duration to the phase's total (a symmetric step enters the key and query phases twice);
 * phases not reached (a skipped step) stay 0. Kept out of the step's body.
 */
final class PhaseClock {

  /** The phases of {@link StepTimings}, in its order. */
  enum Phase {
    INPUT,
    KEY_FORWARD,
    QUERY_FORWARD_BACKWARD,
    OPTIMIZER,
    MOMENTUM_UPDATE,
    ENQUEUE
  }

  private final long start = System.nanoTime();
  private final long[] nanos = new long[Phase.values().length];

  /** Runs {@code work} as part of {@code phase}. */
  <T> T time(Phase phase, Supplier<T> work) {
    long t0 = System.nanoTime();
    try {
      return work.get();
    } finally {
      nanos[phase.ordinal()] += System.nanoTime() - t0;
    }
  }

  /** Runs {@code work} as part of {@code phase}. */
  void time(Phase phase, Runnable work) {
    time(
        phase,
        () -> {
          work.run();
          return null;
        });
  }

  StepTimings timings() {
    return new StepTimings(
        ms(Phase.INPUT),
        ms(Phase.KEY_FORWARD),
        ms(Phase.QUERY_FORWARD_BACKWARD),
        ms(Phase.OPTIMIZER),
        ms(Phase.MOMENTUM_UPDATE),
        ms(Phase.ENQUEUE),
        (System.nanoTime() - start) / 1e6);
  }

  private double ms(Phase phase) {
    return nanos[phase.ordinal()] / 1e6;
  }
}
