/**
 * {@code mocostream embed-stream}: the Kafka Streams application that embeds every frame with the
 * current encoder version ({@link io.mocostream.serving.streams.EmbedTopology}, {@link
 * io.mocostream.serving.streams.Embedder} and its live implementation, the options {@link
 * io.mocostream.serving.streams.EmbedOptions} and the command entry {@link
 * io.mocostream.serving.streams.EmbedStreamCommand}).
 */
package io.mocostream.serving.streams;
