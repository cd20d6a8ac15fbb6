package io.mocostream.encoder.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.VersionAssembler.Accepted;
import io.mocostream.encoder.client.VersionAssembler.Outcome;
import io.mocostream.encoder.client.VersionAssembler.Refused;
import io.mocostream.encoder.client.VersionAssembler.Rewind;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.EncoderPublisher.Prepared;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The subscriber's checks on records fed directly (the Kafka side is covered by
 * VersionSubscriberTest).
 */
class VersionAssemblerTest {
  private final ModelSigner signer = ModelSigning.generate();
  private final EncoderPublisher publisher = new EncoderPublisher("t", signer, 1000);
  private final VersionAssembler assembler = new VersionAssembler("t", "m", gate(1 << 20), 1 << 20);
  private long offset;

  private List<Outcome> feed(Prepared p) {
    List<Outcome> out = new ArrayList<>();
    for (EncoderChunk c : p.chunks()) {
      out.addAll(assembler.onRecord(0, offset++, c));
    }
    out.addAll(assembler.onRecord(0, offset++, p.manifest()));
    offset++; // the commit marker
    return out;
  }

  private VersionGate gate(long maxPayloadBytes) {
    return new VersionGate(
        signer.trustedKeys(), maxPayloadBytes, null, java.time.Clock.systemUTC());
  }

  private Prepared version(long v, byte[] payload) {
    return publisher.prepare(Drafts.draft("m", v), payload);
  }

  private static RefusedVersion refused(List<Outcome> out) {
    assertEquals(1, out.size(), out.toString());
    return assertInstanceOf(Refused.class, out.get(0)).refused();
  }

  @Test
  void aCompleteSignedVersionIsAccepted() {
    byte[] payload = Drafts.payload(2500, 1);
    List<Outcome> out = feed(version(1, payload));
    assertEquals(1, out.size());
    VerifiedVersion v = assertInstanceOf(Accepted.class, out.get(0)).version();
    assertArrayEquals(payload, v.payload());
    assertEquals(1, v.version());
    assertEquals(3, v.offset(), "the manifest follows 3 chunks");
    assertEquals(0, assembler.pendingBytes());
  }

  @Test
  void aFlippedByteInAChunkIsAShaMismatch() {
    byte[] payload = Drafts.payload(2500, 2);
    Prepared p = version(1, payload);
    payload[1234] ^= 0x10; // the chunks are views of the payload: this alters chunk 1 after signing
    RefusedVersion r = refused(feed(p));
    assertEquals(Reason.SHA_MISMATCH, r.reason());
    assertTrue(r.message().contains("model m version 1"), r.message());
  }

  @Test
  void anAlteredManifestIsABadSignature() {
    Prepared p = version(1, Drafts.payload(2500, 3));
    p.manifest().setStep(999_999L);
    assertEquals(Reason.BAD_SIGNATURE, refused(feed(p)).reason());
  }

  @Test
  void aForeignKeyIsUnknown() {
    Prepared p =
        new EncoderPublisher("t", ModelSigning.generate(), 1000)
            .prepare(Drafts.draft("m", 1), Drafts.payload(100, 4));
    RefusedVersion r = refused(feed(p));
    assertEquals(Reason.UNKNOWN_KEY, r.reason());
    assertTrue(r.message().contains(p.manifest().getKeyId()), r.message());
  }

  @Test
  void aMissingChunkIsNamed() {
    Prepared p = version(1, Drafts.payload(3500, 5));
    List<EncoderChunk> chunks = new ArrayList<>(p.chunks());
    chunks.remove(2);
    RefusedVersion r = refused(feed(new Prepared(p.manifest(), chunks)));
    assertEquals(Reason.MISSING_CHUNKS, r.reason());
    assertTrue(r.message().contains("first missing index 2"), r.message());
  }

  @Test
  void aPlantedChunkUnderTheNextVersionNumberDoesNotSpoilIt() {
    byte[] payload = Drafts.payload(2500, 16);
    Prepared p = version(1, payload);
    List<Outcome> out =
        new ArrayList<>(
            assembler.onRecord(
                0, offset++, new EncoderChunk("m", 1L, 0, 3, ByteBuffer.wrap(new byte[1000]))));
    out.addAll(feed(p));
    assertEquals(
        Reason.MALFORMED,
        assertInstanceOf(Refused.class, out.get(0)).refused().reason(),
        out.toString());
    assertArrayEquals(
        payload, assertInstanceOf(Accepted.class, out.get(out.size() - 1)).version().payload());
  }

  @Test
  void aDuplicateChunkIsMalformed() {
    Prepared p = version(1, Drafts.payload(2500, 6));
    List<EncoderChunk> chunks = new ArrayList<>(p.chunks());
    chunks.add(chunks.get(1));
    RefusedVersion r = refused(feed(new Prepared(p.manifest(), chunks)));
    assertEquals(Reason.MALFORMED, r.reason());
    assertTrue(r.message().contains("arrived twice"), r.message());
  }

  @Test
  void chunksWithoutTheirManifestAreRefusedWhenTheNextVersionIsVerified() {
    Prepared one = version(1, Drafts.payload(2500, 7));
    for (EncoderChunk c : one.chunks()) {
      assertEquals(List.of(), assembler.onRecord(0, offset++, c));
    }
    byte[] payload = Drafts.payload(1500, 8);
    List<Outcome> out = feed(version(2, payload));
    assertEquals(2, out.size(), out.toString());
    RefusedVersion orphan = assertInstanceOf(Refused.class, out.get(0)).refused();
    assertEquals(Reason.MALFORMED, orphan.reason());
    assertEquals(1, orphan.version());
    assertTrue(orphan.message().contains("not followed by their manifest"), orphan.message());
    assertArrayEquals(payload, assertInstanceOf(Accepted.class, out.get(1)).version().payload());
    assertEquals(0, assembler.pendingBytes());
  }

  @Test
  void anUnreadableRecordAmongTheChunksIsRefusedAloneAndTheVersionStillVerifies() {
    byte[] payload = Drafts.payload(2500, 9);
    Prepared p = version(1, payload);
    assembler.onRecord(0, offset++, p.chunks().get(0));
    RefusedVersion r = refused(assembler.onUnreadable(0, offset++, "unknown magic byte"));
    assertEquals(Reason.UNREADABLE, r.reason());
    assertTrue(r.message().contains("unknown magic byte"), r.message());
    assembler.onRecord(0, offset++, p.chunks().get(1));
    assembler.onRecord(0, offset++, p.chunks().get(2));
    List<Outcome> out = assembler.onRecord(0, offset++, p.manifest());
    assertArrayEquals(payload, assertInstanceOf(Accepted.class, out.get(0)).version().payload());
  }

  @Test
  void chunksHeldBeforeTheirManifestStayWithinTheBudget() {
    VersionAssembler tight = new VersionAssembler("t", "m", gate(1 << 20), 8_000);
    List<Outcome> out = new ArrayList<>();
    for (long v = 100; v < 120; v++) { // 20 versions of 2 KB that never get a manifest
      for (EncoderChunk c : version(v, Drafts.payload(2000, v)).chunks()) {
        out.addAll(tight.onRecord(0, offset++, c));
        assertTrue(tight.pendingBytes() <= 8_000, "held " + tight.pendingBytes());
      }
    }
    assertTrue(out.size() >= 15, "least recently extended versions dropped and reported: " + out);
    byte[] payload = Drafts.payload(2500, 1);
    Prepared real = version(1, payload);
    for (EncoderChunk c : real.chunks()) {
      out.addAll(tight.onRecord(0, offset++, c));
    }
    List<Outcome> last = tight.onRecord(0, offset++, real.manifest());
    assertArrayEquals(
        payload, assertInstanceOf(Accepted.class, last.get(last.size() - 1)).version().payload());
  }

  @Test
  void otherModelsAreIgnored() {
    Prepared other =
        new EncoderPublisher("t", signer, 1000)
            .prepare(Drafts.draft("other", 1), Drafts.payload(10, 1));
    assertEquals(List.of(), feed(other));
  }

  @Test
  void oversizedManifestsAreMalformed() {
    VersionAssembler small = new VersionAssembler("t", "m", gate(1000), 1 << 20);
    Prepared p = version(1, Drafts.payload(2500, 10));
    List<Outcome> out = new ArrayList<>();
    for (EncoderChunk c : p.chunks()) {
      out.addAll(small.onRecord(0, offset++, c));
    }
    out.addAll(small.onRecord(0, offset++, p.manifest()));
    RefusedVersion r = refused(out);
    assertEquals(Reason.MALFORMED, r.reason());
    assertTrue(r.message().contains("limit 1000"), r.message());
  }

  @Test
  void aNewestStartThatMissesChunksRewindsFurtherBack() {
    // Layout: chunks 0,1 of v2 at offsets 10,11, another model's record at 12, chunk 2 at 13,
    // manifest at 14.
    Prepared p = version(2, Drafts.payload(2500, 11));
    assembler.startAt(0, 2, 14, 11, 0); // the scan guessed 14 - 3 = 11
    assembler.onRecord(0, 11, p.chunks().get(1));
    assembler.onRecord(0, 13, p.chunks().get(2));
    List<Outcome> out = assembler.onRecord(0, 14, p.manifest());
    assertEquals(List.of(new Rewind(0, 8)), out);
    assembler.reset(0);
    for (int i = 0; i < 3; i++) {
      assembler.onRecord(0, 10 + (i == 2 ? 3 : i), p.chunks().get(i));
    }
    VerifiedVersion v =
        assertInstanceOf(Accepted.class, assembler.onRecord(0, 14, p.manifest()).get(0)).version();
    assertEquals(2, v.version());
  }

  @Test
  void aNewestStartSkipsOlderVersions() {
    assembler.startAt(0, 2, 100, 50, 0);
    Prepared one = version(1, Drafts.payload(100, 12));
    assertEquals(List.of(), feed(one));
    EncoderVersion m = one.manifest();
    assertEquals(1, m.getVersion());
  }

  @Test
  void refusalsCarryWhereTheyHappened() {
    Prepared p = version(1, Drafts.payload(10, 13));
    p.manifest().setSignature(ByteBuffer.wrap(new byte[64]));
    RefusedVersion r = refused(feed(p));
    assertEquals("t", r.topic());
    assertEquals(0, r.partition());
    assertEquals(1, r.offset());
    assertEquals("m", r.model());
  }
}
