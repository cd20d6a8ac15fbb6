/**
 * {@code mocostream serve}: the HTTP embedding service over a hot-swapping live encoder ({@link
 * io.mocostream.serving.http.EmbeddingService}, its options {@link
 * io.mocostream.serving.http.ServeOptions} and the command entry {@link
 * io.mocostream.serving.http.ServeCommand}), with Prometheus metrics.
 */
package io.mocostream.serving.http;
