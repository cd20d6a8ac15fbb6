/**
 * Benchmarks run as plain mains: {@link io.mocostream.trainer.bench.MocoBench} times a MoCo step
 * against a plain training step of the same encoder in one process and reports the ratio.
 */
package io.mocostream.trainer.bench;
