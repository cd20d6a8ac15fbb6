package io.mocostream.encoder.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.schemas.EncoderVersion;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

class SigningTest {
  private final ModelSigner signer = ModelSigning.generate();

  private EncoderVersion signed(EncoderVersion.Builder draft) {
    EncoderVersion m =
        draft
            .setPayloadBytes(3000)
            .setPayloadSha256(Sha256.hex(new byte[3000]))
            .setChunkCount(3)
            .setKeyId(signer.keyId())
            .setSignature(ByteBuffer.allocate(0))
            .build();
    m.setSignature(ByteBuffer.wrap(signer.signManifest(m)));
    return m;
  }

  @Test
  void keyIdIsSixteenHexDigitsOfTheKeysSha256() {
    String id = signer.keyId();
    assertTrue(id.matches("[0-9a-f]{16}"), id);
    assertEquals(Sha256.hex(signer.publicKey().getEncoded()).substring(0, 16), id);
    assertNotEquals(id, ModelSigning.generate().keyId());
  }

  @Test
  void signedManifestVerifiesWithTheTrustedKey() {
    EncoderVersion m = signed(Drafts.draft("m", 1));
    assertEquals(64, m.getSignature().remaining(), "Ed25519 signatures are 64 bytes");
    assertEquals(TrustedKeys.Verdict.VALID, signer.trustedKeys().verify(m));
  }

  @Test
  void anyAlteredFieldBreaksTheSignature() {
    EncoderVersion m = signed(Drafts.draft("m", 1));
    TrustedKeys trust = signer.trustedKeys();
    EncoderVersion sha =
        EncoderVersion.newBuilder(m).setPayloadSha256(Sha256.hex(new byte[1])).build();
    EncoderVersion step = EncoderVersion.newBuilder(m).setStep(m.getStep() + 1).build();
    EncoderVersion knn = EncoderVersion.newBuilder(m).build();
    knn.getMetrics().setKnnTop1(0.99);
    EncoderVersion param = EncoderVersion.newBuilder(m).build();
    param.getArchitecture().setParams(Map.of("width", "2.0"));
    for (EncoderVersion altered : new EncoderVersion[] {sha, step, knn, param}) {
      assertEquals(TrustedKeys.Verdict.BAD_SIGNATURE, trust.verify(altered), altered.toString());
    }
    // A flipped signature bit, and a truncated signature.
    EncoderVersion flipped = EncoderVersion.newBuilder(m).build();
    byte[] sig = new byte[64];
    m.getSignature().duplicate().get(sig);
    sig[10] ^= 0x04;
    flipped.setSignature(ByteBuffer.wrap(sig));
    assertEquals(TrustedKeys.Verdict.BAD_SIGNATURE, trust.verify(flipped));
    flipped.setSignature(ByteBuffer.wrap(new byte[7]));
    assertEquals(TrustedKeys.Verdict.BAD_SIGNATURE, trust.verify(flipped));
  }

  @Test
  void aManifestSignedByAnotherKeyIsUnknownOrBad() {
    ModelSigner other = ModelSigning.generate();
    EncoderVersion m = signed(Drafts.draft("m", 1));
    assertEquals(TrustedKeys.Verdict.UNKNOWN_KEY, other.trustedKeys().verify(m));
    // Claiming the trusted key's id with a foreign signature is a bad signature, not an unknown
    // key.
    EncoderVersion forged = EncoderVersion.newBuilder(m).build();
    forged.setSignature(ByteBuffer.wrap(other.signManifest(m)));
    assertEquals(TrustedKeys.Verdict.BAD_SIGNATURE, signer.trustedKeys().verify(forged));
  }

  @Test
  void signingInputIgnoresTheSignatureAndMapOrder() {
    EncoderVersion m = signed(Drafts.draft("m", 2));
    EncoderVersion other =
        EncoderVersion.newBuilder(m).setSignature(ByteBuffer.wrap(new byte[] {1, 2, 3})).build();
    assertArrayEquals(SigningInput.of(m), SigningInput.of(other));

    Map<String, String> forward = new LinkedHashMap<>();
    Map<String, String> backward = new LinkedHashMap<>();
    for (int i = 0; i < 20; i++) {
      forward.put("k" + i, "v" + i);
      backward.put("k" + (19 - i), "v" + (19 - i));
    }
    EncoderVersion a = EncoderVersion.newBuilder(m).build();
    a.getArchitecture().setParams(forward);
    EncoderVersion b = EncoderVersion.newBuilder(m).build();
    b.getArchitecture().setParams(backward);
    assertArrayEquals(SigningInput.of(a), SigningInput.of(b));
    EncoderVersion c = EncoderVersion.newBuilder(m).build();
    c.getArchitecture().setParams(new HashMap<>(new TreeMap<>(backward)));
    assertArrayEquals(SigningInput.of(a), SigningInput.of(c));
    // The record handed in is left as it was.
    assertEquals(3, other.getSignature().remaining());
  }

  @Test
  void signingInputIsDomainSchemaFingerprintAndTheAvroBinaryWithAnEmptySignature()
      throws Exception {
    EncoderVersion m = signed(Drafts.draft("m", 3));
    EncoderVersion blank =
        EncoderVersion.newBuilder(m).setSignature(ByteBuffer.allocate(0)).build();
    // Written in key order, as the definition asks (the builder's copy would be a HashMap).
    blank.getArchitecture().setParams(new TreeMap<>(m.getArchitecture().getParams()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(
        "mocostream encoder-version v2\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    out.writeBytes(
        java.security.MessageDigest.getInstance("SHA-256")
            .digest(
                org.apache.avro.SchemaNormalization.toParsingForm(EncoderVersion.getClassSchema())
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<EncoderVersion>(EncoderVersion.class).write(blank, enc);
    enc.flush();
    assertArrayEquals(out.toByteArray(), SigningInput.of(m));
  }

  @Test
  void aGenericRecordReadWithTheWriterSchemaVerifies() throws Exception {
    EncoderVersion m = signed(Drafts.draft("m", 4));
    GenericRecord generic = roundTripGeneric(m, EncoderVersion.getClassSchema());
    assertEquals(TrustedKeys.Verdict.VALID, signer.trustedKeys().verify(generic));
    assertEquals(m, EncoderRecords.toManifest(generic));
  }

  @Test
  void aNewerManifestSchemaKeepsItsExtraFieldsCoveredBySignature() throws Exception {
    // A future writer adds a field; an old reader still verifies with the writer's schema, and
    // tampering with
    // the new field is caught although the reader's generated class does not know it.
    Schema old = EncoderVersion.getClassSchema();
    Schema newer = withExtraField(old);
    GenericRecord g = roundTripGeneric(signed(Drafts.draft("m", 5)), old);
    GenericData.Record n = new GenericData.Record(newer);
    for (Schema.Field f : old.getFields()) {
      n.put(f.name(), g.get(f.name()));
    }
    n.put("device", "cuda:0");
    n.put("keyId", signer.keyId());
    n.put("signature", ByteBuffer.wrap(signer.signManifest(n)));
    assertEquals(TrustedKeys.Verdict.VALID, signer.trustedKeys().verify(n));
    n.put("device", "cpu");
    assertEquals(TrustedKeys.Verdict.BAD_SIGNATURE, signer.trustedKeys().verify(n));
    assertEquals(5, EncoderRecords.toManifest(n).getVersion());
  }

  @Test
  void recordsWithoutASignatureFieldAreNotManifests() {
    Schema s = SchemaBuilder.record("X").fields().requiredString("a").endRecord();
    GenericData.Record r = new GenericData.Record(s);
    r.put("a", "b");
    assertThrows(IllegalArgumentException.class, () -> SigningInput.of(r));
    assertFalse(EncoderRecords.isManifest(r));
  }

  private static GenericRecord roundTripGeneric(GenericRecord record, Schema schema)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    if (record instanceof EncoderVersion) {
      new SpecificDatumWriter<GenericRecord>(schema).write(record, enc);
    } else {
      new org.apache.avro.generic.GenericDatumWriter<GenericRecord>(schema).write(record, enc);
    }
    enc.flush();
    return new GenericDatumReader<GenericRecord>(schema)
        .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
  }

  private static Schema withExtraField(Schema base) {
    java.util.List<Schema.Field> fields = new java.util.ArrayList<>();
    for (Schema.Field f : base.getFields()) {
      fields.add(new Schema.Field(f, f.schema()));
    }
    fields.add(new Schema.Field("device", Schema.create(Schema.Type.STRING), null, "cpu"));
    return Schema.createRecord(base.getName(), base.getDoc(), base.getNamespace(), false, fields);
  }
}
