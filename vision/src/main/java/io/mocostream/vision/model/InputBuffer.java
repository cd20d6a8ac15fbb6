package io.mocostream.vision.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One reusable direct buffer that images are copied into before they become an NDArray.
 *
 * <p>Why: {@code manager.create(float[])} allocates a fresh direct buffer per call that only the
 * garbage collector frees (≈ 0.4 MB a step piles up). On the CPU the PyTorch engine wraps a
 * native-order direct buffer without copying, so the array made here shares this buffer's memory:
 * it must be closed (its step scope ended) before the next {@link #wrap} overwrites the buffer. On
 * a GPU the wrap is copied to the device. Not thread-safe.
 */
public final class InputBuffer {

  private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

  /**
   * Copies {@code floats[0 .. shape.size())} into the buffer and returns an array of {@code shape}
   * on {@code scope}'s device, owned by {@code scope}.
   */
  public NDArray wrap(NDManager scope, float[] floats, Shape shape) {
    int count = Math.toIntExact(shape.size());
    if (floats.length < count) {
      throw new IllegalArgumentException(
          "input has " + floats.length + " floats but shape " + shape + " needs " + count);
    }
    int bytes = count * Float.BYTES;
    if (buffer.capacity() < bytes) {
      buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }
    buffer.clear();
    buffer.asFloatBuffer().put(floats, 0, count);
    ByteBuffer view = buffer.duplicate().order(ByteOrder.nativeOrder());
    view.position(0).limit(bytes);
    return scope.create(view.slice().order(ByteOrder.nativeOrder()), shape, DataType.FLOAT32);
  }
}
