/**
 * Optimisation for the trainer: {@link io.mocostream.trainer.optim.Sgd} (momentum SGD in PyTorch's
 * form, applied in place) and {@link io.mocostream.trainer.optim.LearningRate} schedules (warm-up +
 * constant for streams, warm-up + cosine cycles, MoCo's cosine for bounded runs).
 */
package io.mocostream.trainer.optim;
