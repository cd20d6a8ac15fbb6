package io.mocostream.trainer.eval;

import io.mocostream.vision.model.Architecture;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An encoder on disk, as {@code mocostream eval --model-file} reads it: the architecture (its text
 * form, {@link Architecture#toString()}) and the backbone weights ({@code
 * MocoEngine.saveEncoderWeights()}, DJL's {@code Block.saveParameters} format), in one
 * self-describing file.
 *
 * <p>Layout: magic {@code "MOCOENC1"} (8 ASCII bytes), architecture as modified UTF-8 ({@code
 * writeUTF}), weights length (int, big-endian), weights bytes, nothing after.
 *
 * @param architecture what to build
 * @param weights backbone parameters
 */
public record EncoderFile(Architecture architecture, byte[] weights) {

  private static final byte[] MAGIC = {'M', 'O', 'C', 'O', 'E', 'N', 'C', '1'};

  public EncoderFile {
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(weights, "weights");
  }

  /** Writes this encoder to {@code file}. */
  public void write(Path file) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      write(out);
    }
  }

  /** Writes this encoder to {@code stream} (not closed). */
  public void write(OutputStream stream) throws IOException {
    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream));
    out.write(MAGIC);
    out.writeUTF(architecture.toString());
    out.writeInt(weights.length);
    out.write(weights);
    out.flush();
  }

  /** Reads an encoder file; errors name the file and what is wrong with it. */
  public static EncoderFile read(Path file) throws IOException {
    long size = Files.size(file);
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString(), size);
    }
  }

  private static EncoderFile read(InputStream stream, String name, long size) throws IOException {
    DataInputStream in = new DataInputStream(new BufferedInputStream(stream));
    try {
      byte[] magic = in.readNBytes(MAGIC.length);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new IOException(
            name + " is not a moco-stream encoder file (expected magic MOCOENC1)");
      }
      String archText = in.readUTF();
      Architecture arch;
      try {
        arch = Architecture.parse(archText);
      } catch (IllegalArgumentException e) {
        throw new IOException(name + ": " + e.getMessage(), e);
      }
      int length = in.readInt();
      if (length < 0 || length > size) {
        throw new IOException(
            name + ": weights length " + length + " is impossible in a file of " + size + " bytes");
      }
      byte[] weights = in.readNBytes(length);
      if (weights.length != length) {
        throw new IOException(
            name + ": truncated, " + weights.length + " of " + length + " weight bytes");
      }
      if (in.read() != -1) {
        throw new IOException(name + ": trailing bytes after the weights");
      }
      return new EncoderFile(arch, weights);
    } catch (EOFException e) {
      throw new IOException(name + ": truncated encoder file", e);
    }
  }
}
