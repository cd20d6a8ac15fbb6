package io.mocostream.encoder.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.schemas.EncoderVersion;
import org.junit.jupiter.api.Test;

class EncoderPublisherTest {
  private final ModelSigner signer = ModelSigning.generate();
  private final EncoderPublisher publisher = new EncoderPublisher("t", signer, 1000);

  @Test
  void prepareFillsTheComputedFieldsAndSigns() {
    byte[] payload = Drafts.payload(2001, 1);
    EncoderPublisher.Prepared p = publisher.prepare(Drafts.draft("m", 4), payload);
    EncoderVersion m = p.manifest();
    assertEquals(2001, m.getPayloadBytes());
    assertEquals(Sha256.hex(payload), m.getPayloadSha256());
    assertEquals(3, m.getChunkCount());
    assertEquals(3, p.chunks().size());
    assertEquals(signer.keyId(), m.getKeyId());
    assertEquals(TrustedKeys.Verdict.VALID, signer.trustedKeys().verify(m));
    assertEquals(4, m.getVersion());
    assertEquals("m", p.chunks().get(2).getModelName());
  }

  @Test
  void incompleteDraftsAndEmptyPayloadsAreRefusedNamingTheProblem() {
    IllegalArgumentException empty =
        assertThrows(
            IllegalArgumentException.class,
            () -> publisher.prepare(Drafts.draft("m", 1), new byte[0]));
    assertTrue(
        empty.getMessage().contains("model m version 1") && empty.getMessage().contains("empty"),
        empty.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> publisher.prepare(Drafts.draft("m", 0), new byte[1]));
    assertThrows(
        IllegalArgumentException.class,
        () -> publisher.prepare(Drafts.draft("m", 1).clearModelName(), new byte[1]));
    RuntimeException missing =
        assertThrows(
            RuntimeException.class,
            () ->
                publisher.prepare(
                    EncoderVersion.newBuilder().setModelName("m").setVersion(1), new byte[1]));
    assertTrue(
        missing.getMessage().contains("architecture") || missing.getMessage().contains("not set"),
        missing.getMessage());
  }
}
