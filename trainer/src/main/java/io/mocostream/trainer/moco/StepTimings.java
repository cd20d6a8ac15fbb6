package io.mocostream.trainer.moco;

/**
 * Wall time of the phases of one step, in milliseconds. On a GPU, phases end at the next host
 * synchronisation (reading the loss), so kernel time may be attributed to a later phase; {@link
 * #totalMs} is exact.
 *
 * @param inputMs copying the views into device arrays
 * @param keyForwardMs shuffle, key encoder forward in BatchNorm groups, normalise, unshuffle
 * @param queryForwardBackwardMs query encoder forward, InfoNCE loss, backward
 * @param optimizerMs SGD update of the query encoder
 * @param momentumUpdateMs key encoder EMA
 * @param enqueueMs writing the keys and their metadata into the queue
 * @param totalMs the whole step
 */
public record StepTimings(
    double inputMs,
    double keyForwardMs,
    double queryForwardBackwardMs,
    double optimizerMs,
    double momentumUpdateMs,
    double enqueueMs,
    double totalMs) {

  public static final StepTimings ZERO = new StepTimings(0, 0, 0, 0, 0, 0, 0);

  public StepTimings plus(StepTimings o) {
    return new StepTimings(
        inputMs + o.inputMs,
        keyForwardMs + o.keyForwardMs,
        queryForwardBackwardMs + o.queryForwardBackwardMs,
        optimizerMs + o.optimizerMs,
        momentumUpdateMs + o.momentumUpdateMs,
        enqueueMs + o.enqueueMs,
        totalMs + o.totalMs);
  }

  public StepTimings dividedBy(double d) {
    return new StepTimings(
        inputMs / d,
        keyForwardMs / d,
        queryForwardBackwardMs / d,
        optimizerMs / d,
        momentumUpdateMs / d,
        enqueueMs / d,
        totalMs / d);
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "input=%.1fms keyForward=%.1fms queryForwardBackward=%.1fms sgd=%.1fms ema=%.1fms enqueue=%.2fms "
            + "total=%.1fms",
        inputMs,
        keyForwardMs,
        queryForwardBackwardMs,
        optimizerMs,
        momentumUpdateMs,
        enqueueMs,
        totalMs);
  }
}
