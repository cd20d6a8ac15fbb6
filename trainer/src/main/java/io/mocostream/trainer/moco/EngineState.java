package io.mocostream.trainer.moco;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.mocostream.vision.model.Encoders;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The binary form of a {@link MocoEngine}'s state (kept apart from the engine so that its step
 * reads like the reference's forward): header, counters, f_q and f_k arrays, SGD buffers, the
 * queue. Floats are raw little-endian, so a restore is exact.
 */
final class EngineState {

  private static final int MAGIC = 0x4D4F434F; // "MOCO"

  /**
   * 2: f_k is the EMA after the step's update and the queue may start from random keys (version 1
   * refused).
   */
  private static final int VERSION = 2;

  /** What the engine hands over to be saved, or receives on load. */
  record Counters(long seed, long step, long skippedSteps) {}

  private EngineState() {}

  static void write(
      OutputStream stream,
      String arch,
      int queueSize,
      Counters counters,
      List<NDArray> query,
      List<NDArray> key,
      List<NDArray> optimizer,
      KeyQueue queue)
      throws IOException {
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
    out.writeInt(MAGIC);
    out.writeInt(VERSION);
    out.writeUTF(arch);
    out.writeInt(queueSize);
    out.writeLong(counters.seed());
    out.writeLong(counters.step());
    out.writeLong(counters.skippedSteps());
    writeArrays(out, query);
    writeArrays(out, key);
    writeArrays(out, optimizer);
    queue.save(out);
    out.flush();
  }

  /** Reads into the given arrays and queue in place; returns the saved counters. */
  static Counters read(
      InputStream stream,
      String arch,
      int queueSize,
      List<NDArray> query,
      List<NDArray> key,
      List<NDArray> optimizer,
      KeyQueue queue)
      throws IOException {
    DataInputStream in = new DataInputStream(new BufferedInputStream(stream, 1 << 16));
    if (in.readInt() != MAGIC) {
      throw new IOException("not a MoCo engine state (bad magic number)");
    }
    int version = in.readInt();
    if (version != VERSION) {
      throw new IOException(
          "MoCo engine state version " + version + " is not supported (expected " + VERSION + ")");
    }
    String savedArch = in.readUTF();
    int savedQueue = in.readInt();
    if (!savedArch.equals(arch) || savedQueue != queueSize) {
      throw new IOException(
          "MoCo engine state is for architecture "
              + savedArch
              + " with K="
              + savedQueue
              + " but this engine is "
              + arch
              + " with K="
              + queueSize);
    }
    Counters counters = new Counters(in.readLong(), in.readLong(), in.readLong());
    readArrays(in, query, "query encoder");
    readArrays(in, key, "key encoder");
    readArrays(in, optimizer, "optimizer");
    queue.load(in);
    return counters;
  }

  private static void writeArrays(DataOutputStream out, List<NDArray> arrays) throws IOException {
    out.writeInt(arrays.size());
    for (NDArray a : arrays) {
      long[] dims = a.getShape().getShape();
      out.writeInt(dims.length);
      for (long d : dims) {
        out.writeLong(d);
      }
      float[] values = a.toFloatArray();
      ByteBuffer bytes =
          ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(values);
      out.write(bytes.array());
    }
  }

  private static void readArrays(DataInputStream in, List<NDArray> arrays, String what)
      throws IOException {
    int count = in.readInt();
    if (count != arrays.size()) {
      throw new IOException(what + " state has " + count + " arrays, expected " + arrays.size());
    }
    for (int i = 0; i < count; i++) {
      long[] dims = new long[in.readInt()];
      for (int d = 0; d < dims.length; d++) {
        dims[d] = in.readLong();
      }
      Shape shape = new Shape(dims);
      if (!shape.equals(arrays.get(i).getShape())) {
        throw new IOException(
            what
                + " state: array "
                + i
                + " has shape "
                + shape
                + ", expected "
                + arrays.get(i).getShape());
      }
      byte[] bytes = new byte[Math.toIntExact(shape.size() * Float.BYTES)];
      in.readFully(bytes);
      float[] values = new float[Math.toIntExact(shape.size())];
      ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      Encoders.copyInto(arrays.get(i), values);
    }
  }
}
