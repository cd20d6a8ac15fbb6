package io.mocostream.trainer.moco;

/**
 * Wall time of a step's phases, taken by {@link #lap} calls in phase order (input, keys, query forward/backward,
 * optimizer, momentum update, enqueue); phases not reached (a skipped step) stay 0. Kept out of the step's body.
 */
final class PhaseClock {

    private final long start = System.nanoTime();
    private final double[] ms = new double[6];
    private long last = start;
    private int phase;

    /** Ends the current phase. */
    void lap() {
        long now = System.nanoTime();
        ms[phase++] = (now - last) / 1e6;
        last = now;
    }

    StepTimings timings() {
        return new StepTimings(ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], (System.nanoTime() - start) / 1e6);
    }
}
