package io.mocostream.serving.streams;

import io.mocostream.encoder.live.Embedding;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.schemas.ImageFrame;
import java.util.Objects;

/**
 * {@link Embedder} over a {@link LiveEncoder}: decodes the frame within {@link FrameLimits} (limits
 * checked before any pixel is allocated; raw grey/RGB frames use their declared width and height)
 * and embeds it with whatever version serves at that moment. A new version swaps in between two
 * frames, without a restart.
 */
public final class LiveEmbedder implements Embedder {
  private final LiveEncoder encoder;
  private final ImageDecoder decoder;

  public LiveEmbedder(LiveEncoder encoder, FrameLimits limits) {
    this.encoder = Objects.requireNonNull(encoder, "encoder");
    this.decoder = new ImageDecoder(limits);
  }

  public LiveEncoder encoder() {
    return encoder;
  }

  @Override
  public Embedding embed(ImageFrame frame, String input) {
    return encoder.embed(decoder.decode(frame, input));
  }
}
