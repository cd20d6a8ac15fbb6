package io.mocostream.registry.serde;

import java.io.OutputStream;
import java.util.Arrays;
import org.apache.avro.io.BinaryEncoder;

/**
 * Confluent's wire format: magic byte 0, the schema id as a 4-byte big-endian int, then plain Avro
 * binary.
 */
final class WireFormat {
  static final byte MAGIC_BYTE = 0;
  static final int ID_SIZE = 4;
  static final int HEADER_SIZE = 1 + ID_SIZE;

  private WireFormat() {}

  static int readId(byte[] data) {
    return ((data[1] & 0xff) << 24)
        | ((data[2] & 0xff) << 16)
        | ((data[3] & 0xff) << 8)
        | (data[4] & 0xff);
  }

  /**
   * A per-thread growable output buffer with its reused Avro encoder. Hand-written rather than a
   * ByteArrayOutputStream because that one synchronizes every write and cannot be rewound cheaply;
   * on the serializer's hot path the only allocation left is the returned byte[].
   */
  static final class Buffer extends OutputStream {
    private static final int INITIAL = 8 * 1024;
    // A buffer grown past this by one huge record is dropped after use rather than pinned to the
    // thread forever.
    private static final int KEEP_AT_MOST = 4 * 1024 * 1024;

    private byte[] bytes = new byte[INITIAL];
    private int size;
    BinaryEncoder encoder;

    void startRecord(int schemaId) {
      size = 0;
      ensure(HEADER_SIZE);
      bytes[0] = MAGIC_BYTE;
      bytes[1] = (byte) (schemaId >>> 24);
      bytes[2] = (byte) (schemaId >>> 16);
      bytes[3] = (byte) (schemaId >>> 8);
      bytes[4] = (byte) schemaId;
      size = HEADER_SIZE;
    }

    byte[] finishRecord() {
      byte[] out = Arrays.copyOf(bytes, size);
      if (bytes.length > KEEP_AT_MOST) {
        bytes = new byte[INITIAL];
      }
      size = 0;
      return out;
    }

    @Override
    public void write(int b) {
      ensure(1);
      bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }

    private void ensure(int more) {
      int needed = size + more;
      if (needed < 0) {
        throw new IllegalStateException("serialized record exceeds 2 GiB");
      }
      if (needed > bytes.length) {
        bytes =
            Arrays.copyOf(
                bytes, Math.max(needed, (int) Math.min(Integer.MAX_VALUE - 8, bytes.length * 2L)));
      }
    }
  }
}
