package io.mocostream.serving.streams;

import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;

/** ImageFrame records for the stream tests. */
final class Frames {
  private Frames() {}

  static ImageFrame frame(
      String source, long sequence, ContentType type, byte[] data, Integer width, Integer height) {
    return ImageFrame.newBuilder()
        .setSourceId(source)
        .setSequence(sequence)
        .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + sequence))
        .setContentType(type)
        .setData(ByteBuffer.wrap(data))
        .setWidth(width)
        .setHeight(height)
        .setLabel(null)
        .setAttributes(Map.of())
        .build();
  }

  /** A raw grey frame of {@code size}×{@code size} with a gradient depending on {@code seed}. */
  static byte[] grey(int size, int seed) {
    byte[] px = new byte[size * size];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) ((i * (seed + 3) + seed * 17) & 0xFF);
    }
    return px;
  }
}
