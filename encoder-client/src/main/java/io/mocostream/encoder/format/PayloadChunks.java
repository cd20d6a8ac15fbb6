package io.mocostream.encoder.format;

import io.mocostream.schemas.EncoderChunk;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Splits a model payload into chunks small enough for Kafka records and joins them back with every
 * check a reader needs: all indexes {@code 0..count-1} present exactly once, one count, one model
 * and version, and the bytes adding up to the declared size.
 */
public final class PayloadChunks {
  /**
   * Default chunk size: 1 MiB less 1 KiB. A 1 MiB chunk plus its key, Avro framing and record
   * overhead would just exceed Kafka's default {@code max.message.bytes} (1,048,588) and {@code
   * max.request.size} (1,048,576); the KiB of headroom lets the model topic work with default
   * broker and client limits.
   */
  public static final int DEFAULT_CHUNK_SIZE = 1024 * 1024 - 1024;

  /**
   * Largest chunk accepted: a chunk is one Kafka record, and records far beyond a few MiB hurt
   * every client.
   */
  public static final int MAX_CHUNK_SIZE = 16 * 1024 * 1024;

  /** Largest payload a byte[] can hold (JVMs reserve a few header words). */
  public static final long MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 8;

  private PayloadChunks() {}

  /** Number of chunks a payload of {@code payloadBytes} splits into at {@code chunkSize}. */
  public static int chunkCount(long payloadBytes, int chunkSize) {
    checkChunkSize(chunkSize);
    if (payloadBytes < 1 || payloadBytes > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "payload size " + payloadBytes + " is outside 1.." + MAX_PAYLOAD_BYTES);
    }
    return (int) ((payloadBytes + chunkSize - 1) / chunkSize);
  }

  /**
   * Views of {@code payload}, {@code chunkSize} bytes each except a shorter last one. No bytes are
   * copied: the views share the array, so the caller must not change it until the chunks are sent.
   * An empty payload is refused: no model has zero bytes, so it can only be a bug upstream.
   */
  public static List<ByteBuffer> split(byte[] payload, int chunkSize) {
    if (payload == null || payload.length == 0) {
      throw new IllegalArgumentException(
          "payload is empty: an encoder version needs at least one byte");
    }
    int count = chunkCount(payload.length, chunkSize);
    List<ByteBuffer> parts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int from = i * chunkSize;
      parts.add(ByteBuffer.wrap(payload, from, Math.min(chunkSize, payload.length - from)).slice());
    }
    return parts;
  }

  /**
   * The chunk records of one version, in index order (views of {@code payload}, see {@link
   * #split}).
   */
  public static List<EncoderChunk> chunks(
      String model, long version, byte[] payload, int chunkSize) {
    List<ByteBuffer> parts = split(payload, chunkSize);
    List<EncoderChunk> chunks = new ArrayList<>(parts.size());
    for (int i = 0; i < parts.size(); i++) {
      chunks.add(new EncoderChunk(model, version, i, parts.size(), parts.get(i)));
    }
    return chunks;
  }

  /**
   * Joins chunks in any order into the payload, checking them as {@link ChunkCollector} does. The
   * count is the chunks' own; {@code expectedBytes} (or -1 for any) is the size the manifest
   * declares.
   */
  public static byte[] reassemble(
      String model, long version, Collection<EncoderChunk> chunks, long expectedBytes)
      throws ChunkException {
    if (chunks.isEmpty()) {
      throw new ChunkException(
          ChunkException.Kind.MISSING,
          model,
          version,
          0,
          "model " + model + " version " + version + " has no chunks (first missing index 0)");
    }
    ChunkCollector collector = new ChunkCollector(model, version, MAX_PAYLOAD_BYTES);
    for (EncoderChunk chunk : chunks) {
      collector.add(chunk);
    }
    int count = chunks.iterator().next().getCount();
    List<ByteBuffer> ordered = collector.complete(count, expectedBytes);
    return join(ordered, collector.bytes());
  }

  /**
   * Concatenates {@code parts} into one array of {@code totalBytes} (checked against the parts'
   * sizes).
   */
  public static byte[] join(List<ByteBuffer> parts, long totalBytes) {
    if (totalBytes < 0 || totalBytes > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "payload size " + totalBytes + " is outside 0.." + MAX_PAYLOAD_BYTES);
    }
    long sum = 0;
    for (ByteBuffer p : parts) {
      sum += p.remaining();
    }
    if (sum != totalBytes) {
      throw new IllegalArgumentException(
          "parts hold " + sum + " bytes, not the " + totalBytes + " declared");
    }
    byte[] out = new byte[(int) totalBytes];
    int at = 0;
    for (ByteBuffer p : parts) {
      int n = p.remaining();
      p.duplicate().get(out, at, n);
      at += n;
    }
    return out;
  }

  static void checkChunkSize(int chunkSize) {
    if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
      throw new IllegalArgumentException(
          "chunk size " + chunkSize + " is outside 1.." + MAX_CHUNK_SIZE);
    }
  }
}
