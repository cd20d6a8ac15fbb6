package io.mocostream.trainer.moco;

/**
 * The outcome of one {@link MocoEngine#step}.
 *
 * @param step index of this step (0-based; skipped steps count, they are steps of the step log)
 * @param loss the InfoNCE loss (average over both directions when symmetric); NaN/∞ when not finite
 * @param finite false when the loss or a gradient was not finite: then nothing was updated (query
 *     and key encoders, BatchNorm statistics, optimizer state and queue are as before the step)
 * @param learningRate the rate used (or that would have been used)
 * @param batchSize images per view
 * @param negatives filled queue slots the queries were contrasted with
 * @param timings wall time per phase
 */
public record StepResult(
    long step,
    float loss,
    boolean finite,
    float learningRate,
    int batchSize,
    int negatives,
    StepTimings timings) {}
