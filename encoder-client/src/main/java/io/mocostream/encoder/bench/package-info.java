/** Benchmarks of the model topic. */
package io.mocostream.encoder.bench;
