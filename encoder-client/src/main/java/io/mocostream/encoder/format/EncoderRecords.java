package io.mocostream.encoder.format;

import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Tells the model topic's two record types apart and turns records read generically (with the
 * writer's schema, as a deserializer without {@code specific.avro.reader} returns them) into the
 * generated classes.
 */
public final class EncoderRecords {
  /** Full name of the manifest record. */
  public static final String MANIFEST_NAME = EncoderVersion.getClassSchema().getFullName();

  /** Full name of the chunk record. */
  public static final String CHUNK_NAME = EncoderChunk.getClassSchema().getFullName();

  private EncoderRecords() {}

  /** Whether a deserialized value is an encoder version manifest (of any schema version). */
  public static boolean isManifest(Object value) {
    return value instanceof IndexedRecord r && r.getSchema().getFullName().equals(MANIFEST_NAME);
  }

  /** Whether a deserialized value is an encoder chunk (of any schema version). */
  public static boolean isChunk(Object value) {
    return value instanceof IndexedRecord r && r.getSchema().getFullName().equals(CHUNK_NAME);
  }

  /**
   * The manifest as the generated class. A generic record is re-encoded with its writer schema and
   * read back with Avro's schema resolution, so fields added or removed by a newer schema resolve
   * as Avro defines.
   */
  public static EncoderVersion toManifest(IndexedRecord record) {
    if (record instanceof EncoderVersion v) {
      return v;
    }
    Schema writer = record.getSchema();
    if (!writer.getFullName().equals(MANIFEST_NAME)) {
      throw new IllegalArgumentException(
          "a " + writer.getFullName() + " is not an " + MANIFEST_NAME);
    }
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(bytes, null);
      new GenericDatumWriter<IndexedRecord>(writer, GenericData.get()).write(record, encoder);
      encoder.flush();
      SpecificData model =
          SpecificData.getForClass(EncoderVersion.class); // carries the Instant conversion
      SpecificDatumReader<EncoderVersion> reader =
          new SpecificDatumReader<>(writer, EncoderVersion.getClassSchema(), model);
      return reader.read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    } catch (IOException e) {
      throw new UncheckedIOException("re-reading a manifest of schema " + writer, e);
    } catch (AvroRuntimeException e) {
      throw new IllegalArgumentException(
          "manifest does not resolve to " + MANIFEST_NAME + ": " + e.getMessage(), e);
    }
  }

  /** The chunk as the generated class, sharing the data buffer (no copy). */
  public static EncoderChunk toChunk(IndexedRecord record) {
    if (record instanceof EncoderChunk c) {
      return c;
    }
    Schema schema = record.getSchema();
    if (!schema.getFullName().equals(CHUNK_NAME)) {
      throw new IllegalArgumentException("a " + schema.getFullName() + " is not an " + CHUNK_NAME);
    }
    Object model = field(record, "modelName");
    Object version = field(record, "version");
    Object index = field(record, "index");
    Object count = field(record, "count");
    Object data = field(record, "data");
    if (!(model instanceof CharSequence)
        || !(version instanceof Long)
        || !(index instanceof Integer)
        || !(count instanceof Integer)
        || !(data instanceof ByteBuffer)) {
      throw new IllegalArgumentException(
          "chunk record of schema " + schema + " has fields of unexpected types");
    }
    return new EncoderChunk(
        model.toString(), (Long) version, (Integer) index, (Integer) count, (ByteBuffer) data);
  }

  private static Object field(IndexedRecord record, String name) {
    Schema.Field f = record.getSchema().getField(name);
    if (f == null) {
      throw new IllegalArgumentException(
          record.getSchema().getFullName() + " record has no field '" + name + "'");
    }
    return record.get(f.pos());
  }
}
