package io.mocostream.encoder.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * The bytes an encoder version's Ed25519 signature covers: its canonical signing input.
 *
 * <p>Definition: {@link #MANIFEST_DOMAIN} (ASCII, ends in a NUL byte), then the 32-byte SHA-256 of
 * the Parsing Canonical Form of the schema the manifest is written with, then the {@code
 * EncoderVersion} manifest record with its top-level {@code signature} field replaced by empty
 * bytes, encoded as plain Avro binary (no Confluent magic byte or schema id) under that schema,
 * where the entries of every map are written in ascending order of their keys ({@link
 * String#compareTo}). Map order is the one thing Avro binary leaves to the map's iteration order,
 * hence the sort.
 *
 * <p>Why the schema's fingerprint: a reader re-encodes the manifest under the WRITER's schema (the
 * one the registry returns for the record's schema id), so that fields its own generated class does
 * not know yet stay covered. But the registry is writable by anyone who can reach it: without the
 * fingerprint, a copy of the schema with two fields of one type swapped (say {@code version} and
 * {@code createdAt}), registered under any subject, made an old signed manifest verify with another
 * meaning. With it, the signature covers the field names, order and types the bytes are read with.
 * The domain prefix keeps a manifest signature from ever verifying as the signature of another kind
 * of record signed by the same key (trainer checkpoints, see {@link #of(String, IndexedRecord)}).
 */
public final class SigningInput {
  /** Name of the manifest field that holds the signature and is blanked in the signing input. */
  public static final String SIGNATURE_FIELD = "signature";

  /** Prefix of an encoder version manifest's signing input. */
  public static final String MANIFEST_DOMAIN = "mocostream encoder-version v2\0";

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private SigningInput() {}

  /**
   * The canonical signing input of {@code manifest}: a generated {@code EncoderVersion} or a
   * generic record read with the writer's schema. The record is not modified.
   */
  public static byte[] of(IndexedRecord manifest) {
    return of(MANIFEST_DOMAIN, manifest);
  }

  /**
   * The signing input of any record with a top-level bytes field {@code signature}, under {@code
   * domain}: the domain's ASCII bytes, the SHA-256 of the record schema's Parsing Canonical Form,
   * then the canonical Avro binary described in the class comment.
   */
  public static byte[] of(String domain, IndexedRecord manifest) {
    Schema schema = manifest.getSchema();
    Schema.Field sig = schema.getField(SIGNATURE_FIELD);
    if (sig == null || sig.schema().getType() != Schema.Type.BYTES) {
      throw new IllegalArgumentException(
          "record "
              + schema.getFullName()
              + " has no top-level bytes field '"
              + SIGNATURE_FIELD
              + "' and cannot be a signed manifest");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    bytes.writeBytes(domain.getBytes(StandardCharsets.US_ASCII));
    bytes.writeBytes(schemaFingerprint(schema));
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(bytes, null);
    try {
      new CanonicalWriter(schema, manifest).write(manifest, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("encoding the signing input of " + schema.getFullName(), e);
    }
    return bytes.toByteArray();
  }

  /**
   * SHA-256 of the schema's Parsing Canonical Form: names, field order and types, without docs or
   * defaults.
   */
  public static byte[] schemaFingerprint(Schema schema) {
    return Sha256.newDigest()
        .digest(SchemaNormalization.toParsingForm(schema).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Writes a record as Avro binary with the top record's signature blanked and map entries sorted
   * by key. Subclassing Avro's writer, rather than copying the record, keeps the caller's record
   * untouched and works the same for generated and generic records (SpecificDatumWriter applies a
   * generated record's conversions, e.g. Instant to timestamp-millis, and writes generic values as
   * they are).
   */
  private static final class CanonicalWriter extends SpecificDatumWriter<Object> {
    private final IndexedRecord top;

    CanonicalWriter(Schema schema, IndexedRecord top) {
      super(schema, SpecificData.get());
      this.top = top;
    }

    @Override
    protected void writeField(Object datum, Schema.Field f, Encoder out, Object state)
        throws IOException {
      if (datum == top && f.name().equals(SIGNATURE_FIELD)) {
        out.writeBytes(EMPTY.duplicate());
        return;
      }
      super.writeField(datum, f, out, state);
    }

    @Override
    @SuppressWarnings("unchecked")
    protected Iterable<Map.Entry<Object, Object>> getMapEntries(Object map) {
      List<Map.Entry<Object, Object>> entries =
          new ArrayList<>(((Map<Object, Object>) map).entrySet());
      entries.sort(Comparator.comparing(e -> e.getKey().toString()));
      return entries;
    }
  }
}
