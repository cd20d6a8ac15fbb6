/**
 * Measuring what an encoder learnt: {@link io.mocostream.trainer.eval.KnnMonitor} (weighted kNN, k
 * = 200, τ = 0.1, as the MoCo authors' CIFAR-10 demo, on DJL NDArrays), {@link
 * io.mocostream.trainer.eval.ProbeSet} (bank and query images prepared once for repeated
 * monitoring) and {@link io.mocostream.trainer.eval.Evaluation} ({@code mocostream eval}: encoder
 * vs raw pixels vs random init).
 */
package io.mocostream.trainer.eval;
