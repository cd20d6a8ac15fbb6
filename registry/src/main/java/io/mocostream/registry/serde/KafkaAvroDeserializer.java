package io.mocostream.registry.serde;

import io.mocostream.registry.client.RegistryClientConfig;
import io.mocostream.registry.client.RegistryException;
import io.mocostream.registry.client.SchemaMetadata;
import io.mocostream.registry.client.SchemaRegistryClient;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.util.Utf8;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka deserializer for Confluent's Avro wire format. Fetches the WRITER schema by the id in the
 * record (once per id) and resolves it to the reader schema: the generated class's schema with
 * {@code specific.avro.reader=true}, else the writer schema itself (GenericRecord), or with {@code
 * use.latest.version=true} the subject's latest schema. So records written with an older schema
 * version read fine into a newer class (added fields take their defaults).
 *
 * <p>Null is read as null. A record that is not in the wire format (too short, wrong magic byte),
 * names an id the registry does not know, or whose Avro body is truncated, corrupt or followed by
 * stray bytes fails with a {@link SerializationException} naming the topic, what was found, and
 * why. Length prefixes are checked against the record's size before anything is allocated, so a
 * corrupt record cannot make the consumer allocate gigabytes (the one case left open is an array or
 * map of zero-byte items, e.g. {@code array<null>}, which no sane schema has).
 */
public class KafkaAvroDeserializer implements Deserializer<Object> {
  private SchemaRegistryClient client;
  private boolean ownsClient;
  private boolean isKey;
  private boolean specific;
  private boolean useLatest;
  private Class<?> specificType;
  private SubjectNameStrategy strategy = SubjectNameStrategy.TOPIC;
  private boolean configured;

  /** A writer schema and the datum reader resolving it to the reader schema. */
  private record Reader(Schema writer, DatumReader<Object> datumReader) {}

  /**
   * Readers by writer schema id (the reader schema depends only on the id, except with
   * use.latest.version).
   */
  private final ConcurrentMap<Integer, Reader> readers = new ConcurrentHashMap<>();

  private final ConcurrentMap<String, Reader> latestReaders = new ConcurrentHashMap<>();
  private final ThreadLocal<BinaryDecoder[]> decoders =
      ThreadLocal.withInitial(() -> new BinaryDecoder[1]);

  /** For Kafka's reflective construction; call {@link #configure} before use. */
  public KafkaAvroDeserializer() {}

  /**
   * Uses a shared client (and its schema cache); {@link #configure} still reads the serde settings.
   */
  public KafkaAvroDeserializer(SchemaRegistryClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  /** A configured deserializer on a shared client. */
  public KafkaAvroDeserializer(SchemaRegistryClient client, Map<String, ?> configs, boolean isKey) {
    this(client);
    configure(configs, isKey);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    KafkaAvroSerDeConfig config = new KafkaAvroSerDeConfig(configs);
    this.isKey = isKey;
    this.specific = config.getBoolean(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG);
    this.useLatest = config.getBoolean(KafkaAvroSerDeConfig.USE_LATEST_VERSION);
    this.specificType =
        config.getClass(
            isKey
                ? KafkaAvroSerDeConfig.SPECIFIC_AVRO_KEY_TYPE_CONFIG
                : KafkaAvroSerDeConfig.SPECIFIC_AVRO_VALUE_TYPE_CONFIG);
    if (specificType != null && !SpecificRecord.class.isAssignableFrom(specificType)) {
      throw new org.apache.kafka.common.config.ConfigException(
          (isKey
              ? KafkaAvroSerDeConfig.SPECIFIC_AVRO_KEY_TYPE_CONFIG
              : KafkaAvroSerDeConfig.SPECIFIC_AVRO_VALUE_TYPE_CONFIG),
          specificType.getName(),
          "not a generated Avro SpecificRecord class");
    }
    this.strategy = config.subjectNameStrategy(isKey);
    if (client == null) {
      client = new SchemaRegistryClient(RegistryClientConfig.fromConfigs(configs));
      ownsClient = true;
    }
    readers.clear();
    latestReaders.clear();
    configured = true;
  }

  /** The client in use (null before configure when none was given). */
  public SchemaRegistryClient client() {
    return client;
  }

  @Override
  public Object deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    if (!configured) {
      throw new IllegalStateException(
          "KafkaAvroDeserializer used before configure(...): set "
              + KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG);
    }
    String part = isKey ? "key" : "value";
    if (data.length < WireFormat.HEADER_SIZE) {
      throw new SerializationException(
          "cannot deserialize the "
              + part
              + " of a record of topic '"
              + topic
              + "': "
              + data.length
              + " byte(s) is shorter than Confluent's "
              + WireFormat.HEADER_SIZE
              + "-byte header (magic byte 0, 4-byte schema id): truncated or not written by an Avro serializer");
    }
    if (data[0] != WireFormat.MAGIC_BYTE) {
      throw new SerializationException(
          String.format(
              "cannot deserialize the %s of a record of topic '%s': unknown"
                  + " magic byte 0x%02x (expected 0x00): not in Confluent's wire format (%d bytes, starting %s)",
              part, topic, data[0] & 0xff, data.length, hexPrefix(data)));
    }
    int id = WireFormat.readId(data);
    Reader reader = reader(topic, id);
    BinaryDecoder[] slot = decoders.get();
    Object result;
    try {
      // Pass 1 walks the body with the writer schema without building anything. Avro allocates a
      // bytes, string,
      // array or map at the size its length prefix claims, before reading it: a corrupt prefix
      // claiming 1 GB
      // in a 20-byte record would allocate the gigabyte. Skipping allocates nothing and fails at
      // the first
      // length that overruns the record, so by pass 2 every length is known to fit in the bytes
      // received.
      BinaryDecoder decoder = decoder(slot, data);
      GenericDatumReader.skip(reader.writer(), decoder);
      if (!decoder.isEnd()) {
        throw new SerializationException(
            "cannot deserialize the "
                + part
                + " of a record of topic '"
                + topic
                + "' (schema id "
                + id
                + ", "
                + data.length
                + " bytes): "
                + remaining(decoder)
                + " byte(s) left over after the Avro datum: corrupt, or written with a different schema than id "
                + id);
      }
      result = reader.datumReader().read(null, decoder(slot, data));
    } catch (IOException
        | AvroRuntimeException
        | IndexOutOfBoundsException
        | ClassCastException
        | NegativeArraySizeException
        | IllegalArgumentException e) {
      // Avro signals a short body with EOFException, a corrupt one with negative lengths, bad union
      // indexes or enum ordinals out of range.
      throw new SerializationException(
          "cannot deserialize the "
              + part
              + " of a record of topic '"
              + topic
              + "' (schema id "
              + id
              + ", "
              + data.length
              + " bytes): Avro body truncated or corrupt: "
              + e,
          e);
    }
    // Top-level primitives come back as Confluent's deserializer returns them: String, and byte[]
    // for bytes.
    if (result instanceof Utf8) {
      return result.toString();
    }
    if (result instanceof java.nio.ByteBuffer && reader.writer().getType() == Schema.Type.BYTES) {
      java.nio.ByteBuffer buffer = (java.nio.ByteBuffer) result;
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    }
    return result;
  }

  private static BinaryDecoder decoder(BinaryDecoder[] slot, byte[] data) {
    slot[0] =
        DecoderFactory.get()
            .binaryDecoder(
                data, WireFormat.HEADER_SIZE, data.length - WireFormat.HEADER_SIZE, slot[0]);
    return slot[0];
  }

  private Reader reader(String topic, int id) {
    Reader reader = readers.get(id);
    if (reader != null) {
      return reader;
    }
    Schema writer = writerSchema(topic, id);
    if (useLatest && !specific && !AvroSchemas.isPrimitive(writer)) {
      String subject = strategy.subject(topic, isKey, writer);
      return latestReaders.computeIfAbsent(
          subject + '\u0000' + id,
          k -> {
            Schema latest = latestSchema(topic, subject);
            return new Reader(writer, new GenericDatumReader<>(writer, latest, GenericData.get()));
          });
    }
    reader = new Reader(writer, newReader(topic, id, writer));
    Reader raced = readers.putIfAbsent(id, reader);
    return raced != null ? raced : reader;
  }

  private DatumReader<Object> newReader(String topic, int id, Schema writer) {
    if (!specific || AvroSchemas.isPrimitive(writer)) {
      return new GenericDatumReader<>(writer, writer, GenericData.get());
    }
    Class<?> type = specificType;
    if (type == null) {
      type = SpecificData.get().getClass(writer);
      if (type == null || !SpecificRecord.class.isAssignableFrom(type)) {
        throw new SerializationException(
            "cannot deserialize a record of topic '"
                + topic
                + "' (schema id "
                + id
                + ") as a specific record: no generated class "
                + writer.getFullName()
                + " on the classpath; set "
                + KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG
                + "=false for GenericRecord or set "
                + (isKey
                    ? KafkaAvroSerDeConfig.SPECIFIC_AVRO_KEY_TYPE_CONFIG
                    : KafkaAvroSerDeConfig.SPECIFIC_AVRO_VALUE_TYPE_CONFIG));
      }
    }
    SpecificData model = SpecificData.getForClass(type);
    Schema readerSchema = model.getSchema(type);
    return new SpecificDatumReader<>(writer, readerSchema, model);
  }

  private Schema writerSchema(String topic, int id) {
    try {
      return client.getById(id);
    } catch (RegistryException e) {
      if (e.status() == 404) {
        throw new SerializationException(
            "cannot deserialize a record of topic '"
                + topic
                + "': unknown schema id "
                + id
                + " (the registry has no schema with that id: "
                + e.getMessage()
                + ")",
            e);
      }
      throw new SerializationException(
          "cannot deserialize a record of topic '"
              + topic
              + "': cannot fetch schema id "
              + id
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private Schema latestSchema(String topic, String subject) {
    try {
      SchemaMetadata meta = client.getLatest(subject);
      return client.getById(meta.id());
    } catch (RegistryException e) {
      throw new SerializationException(
          "cannot deserialize a record of topic '"
              + topic
              + "': cannot fetch the"
              + " latest schema of subject '"
              + subject
              + "' (use.latest.version=true): "
              + e.getMessage(),
          e);
    }
  }

  private static long remaining(BinaryDecoder decoder) {
    try {
      long n = 0;
      while (!decoder.isEnd()) {
        decoder.skipFixed(1);
        n++;
      }
      return n;
    } catch (IOException e) {
      return -1;
    }
  }

  private static String hexPrefix(byte[] data) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(8, data.length); i++) {
      sb.append(String.format("%02x", data[i] & 0xff));
    }
    return sb.append(data.length > 8 ? "…" : "").toString();
  }

  @Override
  public void close() {
    if (ownsClient && client != null) {
      client.close();
    }
  }
}
