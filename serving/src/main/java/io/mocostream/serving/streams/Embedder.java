package io.mocostream.serving.streams;

import io.mocostream.encoder.live.Embedding;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.schemas.ImageFrame;

/**
 * Turns one frame into one embedding: what {@link EmbedTopology} needs of an encoder. {@link
 * LiveEmbedder} is the implementation over a hot-swapping {@code LiveEncoder}; the interface keeps
 * the topology free of how the encoder is found, so that it runs the same under {@code
 * TopologyTestDriver} and in a {@code KafkaStreams} instance.
 *
 * <p>Implementations are called from stream threads and must be thread-safe.
 */
@FunctionalInterface
public interface Embedder {

  /**
   * Embeds {@code frame}.
   *
   * @param input names the frame in a rejection, e.g. {@code source "cam-1" sequence 4 at
   *     frames.raw-0@17}
   * @throws FrameRejectedException when the frame cannot be embedded (empty, over a limit,
   *     undecodable, ...): the topology routes it to the dead-letter topic with the reason
   */
  Embedding embed(ImageFrame frame, String input);
}
