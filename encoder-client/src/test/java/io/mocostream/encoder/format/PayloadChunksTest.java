package io.mocostream.encoder.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.schemas.EncoderChunk;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PayloadChunksTest {

  @Test
  void exactMultipleSplitsIntoEqualChunksAndJoinsBack() throws Exception {
    byte[] payload = Drafts.payload(4096, 1);
    List<EncoderChunk> chunks = PayloadChunks.chunks("m", 3, payload, 1024);
    assertEquals(4, chunks.size());
    for (int i = 0; i < 4; i++) {
      assertEquals(i, chunks.get(i).getIndex());
      assertEquals(4, chunks.get(i).getCount());
      assertEquals(1024, chunks.get(i).getData().remaining());
    }
    assertArrayEquals(payload, PayloadChunks.reassemble("m", 3, chunks, 4096));
  }

  @Test
  void remainderGoesIntoAShorterLastChunk() throws Exception {
    byte[] payload = Drafts.payload(2500, 2);
    List<EncoderChunk> chunks = PayloadChunks.chunks("m", 1, payload, 1000);
    assertEquals(
        List.of(1000, 1000, 500), chunks.stream().map(c -> c.getData().remaining()).toList());
    List<EncoderChunk> shuffled = new ArrayList<>(chunks);
    Collections.shuffle(shuffled, new Random(7));
    assertArrayEquals(payload, PayloadChunks.reassemble("m", 1, shuffled, 2500));
  }

  @Test
  void oneBytePayloadIsOneChunk() throws Exception {
    List<EncoderChunk> chunks =
        PayloadChunks.chunks("m", 1, new byte[] {42}, PayloadChunks.DEFAULT_CHUNK_SIZE);
    assertEquals(1, chunks.size());
    assertArrayEquals(new byte[] {42}, PayloadChunks.reassemble("m", 1, chunks, 1));
  }

  @Test
  void chunkCountMatchesTheSplit() {
    assertEquals(1, PayloadChunks.chunkCount(1, 10));
    assertEquals(1, PayloadChunks.chunkCount(10, 10));
    assertEquals(2, PayloadChunks.chunkCount(11, 10));
    assertEquals(43, PayloadChunks.chunkCount(44_700_000, PayloadChunks.DEFAULT_CHUNK_SIZE));
  }

  @Test
  void emptyPayloadAndBadChunkSizesAreRefused() {
    IllegalArgumentException empty =
        assertThrows(IllegalArgumentException.class, () -> PayloadChunks.split(new byte[0], 1024));
    assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PayloadChunks.split(new byte[10], 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> PayloadChunks.split(new byte[10], PayloadChunks.MAX_CHUNK_SIZE + 1));
  }

  @Test
  void splitSharesThePayloadInsteadOfCopying() {
    byte[] payload = Drafts.payload(3000, 3);
    List<ByteBuffer> parts = PayloadChunks.split(payload, 1000);
    payload[1500] ^= 1;
    assertEquals(payload[1500], parts.get(1).get(500));
  }

  @Test
  void missingChunkIsNamed() {
    List<EncoderChunk> chunks =
        new ArrayList<>(PayloadChunks.chunks("cam", 9, Drafts.payload(5000, 4), 1000));
    chunks.remove(2);
    ChunkException e =
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("cam", 9, chunks, 5000));
    assertEquals(ChunkException.Kind.MISSING, e.kind());
    assertEquals(2, e.index());
    assertTrue(
        e.getMessage().contains("cam")
            && e.getMessage().contains("version 9")
            && e.getMessage().contains("first missing index 2"),
        e.getMessage());
  }

  @Test
  void duplicateChunkIsNamed() {
    List<EncoderChunk> chunks =
        new ArrayList<>(PayloadChunks.chunks("cam", 9, Drafts.payload(3000, 5), 1000));
    chunks.add(chunks.get(1));
    ChunkException e =
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("cam", 9, chunks, 3000));
    assertEquals(ChunkException.Kind.DUPLICATE, e.kind());
    assertEquals(1, e.index());
    assertTrue(
        e.getMessage().contains("chunk 1 of model cam version 9 arrived twice"), e.getMessage());
  }

  @Test
  void disagreeingCountsForeignChunksAndWrongSizesAreRefused() {
    List<EncoderChunk> chunks =
        new ArrayList<>(PayloadChunks.chunks("m", 1, Drafts.payload(3000, 6), 1000));
    chunks.set(1, new EncoderChunk("m", 1L, 1, 4, chunks.get(1).getData()));
    assertEquals(
        ChunkException.Kind.COUNT_MISMATCH,
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("m", 1, chunks, 3000))
            .kind());

    List<EncoderChunk> foreign =
        new ArrayList<>(PayloadChunks.chunks("m", 1, Drafts.payload(3000, 6), 1000));
    foreign.set(2, new EncoderChunk("m", 2L, 2, 3, foreign.get(2).getData()));
    ChunkException f =
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("m", 1, foreign, 3000));
    assertEquals(ChunkException.Kind.FOREIGN, f.kind());

    List<EncoderChunk> ok = PayloadChunks.chunks("m", 1, Drafts.payload(3000, 6), 1000);
    assertEquals(
        ChunkException.Kind.SIZE_MISMATCH,
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("m", 1, ok, 3001))
            .kind());

    List<EncoderChunk> outOfRange =
        List.of(new EncoderChunk("m", 1L, 5, 3, ByteBuffer.allocate(1)));
    assertEquals(
        ChunkException.Kind.OUT_OF_RANGE,
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("m", 1, outOfRange, -1))
            .kind());

    assertEquals(
        ChunkException.Kind.MISSING,
        assertThrows(ChunkException.class, () -> PayloadChunks.reassemble("m", 1, List.of(), -1))
            .kind());
  }

  @Test
  void collectorRefusesBytesOverItsLimitBeforeKeepingThem() throws Exception {
    ChunkCollector c = new ChunkCollector("m", 1, 2500);
    List<EncoderChunk> chunks = PayloadChunks.chunks("m", 1, Drafts.payload(3000, 8), 1000);
    c.add(chunks.get(0));
    c.add(chunks.get(1));
    ChunkException e = assertThrows(ChunkException.class, () -> c.add(chunks.get(2)));
    assertEquals(ChunkException.Kind.SIZE_MISMATCH, e.kind());
    assertEquals(2, c.received());
    assertEquals(2000, c.bytes());
    // A huge declared count is refused before an array of that size is allocated.
    ChunkCollector small = new ChunkCollector("m", 1, 100);
    assertEquals(
        ChunkException.Kind.SIZE_MISMATCH,
        assertThrows(
                ChunkException.class,
                () -> small.add("m", 1, 0, Integer.MAX_VALUE, ByteBuffer.allocate(1)))
            .kind());
  }

  @Test
  void sha256StreamsOverChunksLikeOverTheWholePayload() {
    byte[] payload = Drafts.payload(10_001, 9);
    assertEquals(Sha256.hex(payload), Sha256.hex(PayloadChunks.split(payload, 999)));
    assertEquals(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Sha256.hex("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    assertTrue(Sha256.isHex(Sha256.hex(payload)));
    List<ByteBuffer> parts = PayloadChunks.split(payload, 999);
    Sha256.hex(parts);
    assertEquals(999, parts.get(0).remaining(), "hashing must not consume the buffers");
  }

  @Test
  void collectorHashesChunksInAnyArrivalOrder() throws Exception {
    byte[] payload = Drafts.payload(7777, 10);
    List<EncoderChunk> chunks = new ArrayList<>(PayloadChunks.chunks("m", 1, payload, 1000));
    Collections.shuffle(chunks, new Random(3));
    ChunkCollector c = new ChunkCollector("m", 1, 1 << 20);
    for (EncoderChunk chunk : chunks) {
      c.add(chunk);
    }
    c.complete(8, 7777);
    assertEquals(Sha256.hex(payload), c.sha256Hex());
  }
}
