package io.mocostream.registry.serde;

import io.mocostream.registry.client.RegistryClientConfig;
import io.mocostream.registry.client.RegistryException;
import io.mocostream.registry.client.SchemaMetadata;
import io.mocostream.registry.client.SchemaRegistryClient;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serializer writing Avro in Confluent's wire format (magic byte 0, 4-byte big-endian schema
 * id, Avro binary), registering or looking up the schema under the subject {@code <topic>-value} /
 * {@code <topic>-key} (TopicNameStrategy, the default). Accepts generated SpecificRecords,
 * GenericRecords, and the primitives Confluent's serializer accepts (String, Integer, Long, Float,
 * Double, Boolean, byte[], ByteBuffer). Null is written as null (a tombstone).
 *
 * <p>Configure with {@code schema.registry.url} and the other names in {@link
 * KafkaAvroSerDeConfig}. After the first record of a schema no HTTP request is made: ids are cached
 * by the client, writers per schema, and the output buffer and encoder are reused per thread.
 */
public class KafkaAvroSerializer implements Serializer<Object> {
  private SchemaRegistryClient client;
  private boolean ownsClient;
  private boolean isKey;
  private boolean autoRegister = true;
  private boolean useLatest;
  private long latestTtlNanos = -1;
  private SubjectNameStrategy strategy = SubjectNameStrategy.TOPIC;
  private boolean configured;

  private final ConcurrentMap<Schema, DatumWriter<Object>> specificWriters =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<Schema, DatumWriter<Object>> genericWriters =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Latest> latestBySubject = new ConcurrentHashMap<>();
  // Record schemas already checked to have the same layout as a subject's latest schema
  // (use.latest.version).
  private final ConcurrentMap<Schema, Schema> layoutChecked = new ConcurrentHashMap<>();
  private final ThreadLocal<WireFormat.Buffer> buffers =
      ThreadLocal.withInitial(WireFormat.Buffer::new);

  private record Latest(int id, Schema schema, long fetchedNanos) {}

  /** For Kafka's reflective construction; call {@link #configure} before use. */
  public KafkaAvroSerializer() {}

  /**
   * Uses a shared client (its caches are shared too); {@link #configure} still reads the serde
   * settings.
   */
  public KafkaAvroSerializer(SchemaRegistryClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  /** A configured serializer on a shared client. */
  public KafkaAvroSerializer(SchemaRegistryClient client, Map<String, ?> configs, boolean isKey) {
    this(client);
    configure(configs, isKey);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    KafkaAvroSerDeConfig config = new KafkaAvroSerDeConfig(configs);
    this.isKey = isKey;
    this.autoRegister = config.getBoolean(KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS);
    this.useLatest = config.getBoolean(KafkaAvroSerDeConfig.USE_LATEST_VERSION);
    long ttl = config.getLong(KafkaAvroSerDeConfig.LATEST_CACHE_TTL);
    this.latestTtlNanos = ttl < 0 ? -1 : ttl * 1_000_000_000L;
    this.strategy = config.subjectNameStrategy(isKey);
    if (client == null) {
      client = new SchemaRegistryClient(RegistryClientConfig.fromConfigs(configs));
      ownsClient = true;
    }
    configured = true;
  }

  /** The client in use (null before configure when none was given). */
  public SchemaRegistryClient client() {
    return client;
  }

  @Override
  public byte[] serialize(String topic, Object data) {
    if (data == null) {
      return null;
    }
    if (!configured) {
      throw new IllegalStateException(
          "KafkaAvroSerializer used before configure(...): set "
              + KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG);
    }
    Schema schema = AvroSchemas.of(data);
    if (schema == null) {
      throw new SerializationException(
          "cannot serialize a "
              + data.getClass().getName()
              + " for topic '"
              + topic
              + "': not an Avro record and not a primitive Avro supports (String, Integer, Long, Float, Double,"
              + " Boolean, byte[], ByteBuffer)");
    }
    String subject;
    try {
      subject = strategy.subject(topic, isKey, schema);
    } catch (IllegalArgumentException e) {
      throw new SerializationException(
          "cannot name the subject for topic '" + topic + "': " + e.getMessage(), e);
    }
    int id;
    Schema writeSchema = schema;
    try {
      if (useLatest) {
        Latest latest = latest(subject);
        checkLayout(schema, latest, subject, topic);
        id = latest.id();
        writeSchema = latest.schema();
      } else if (autoRegister) {
        id = client.register(subject, schema);
      } else {
        id = client.getId(subject, schema);
      }
    } catch (RegistryException e) {
      throw new SerializationException(registryFailure(e, topic, subject, schema), e);
    }
    return write(topic, subject, id, writeSchema, data);
  }

  private byte[] write(String topic, String subject, int id, Schema schema, Object data) {
    WireFormat.Buffer buffer = buffers.get();
    buffer.startRecord(id);
    try {
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(buffer, buffer.encoder);
      buffer.encoder = encoder;
      Object datum = data instanceof byte[] ? ByteBuffer.wrap((byte[]) data) : data;
      writer(schema, data).write(datum, encoder);
      encoder.flush();
      return buffer.finishRecord();
    } catch (IOException | AvroRuntimeException | ClassCastException | NullPointerException e) {
      buffer.finishRecord();
      throw new SerializationException(
          "cannot serialize a "
              + data.getClass().getName()
              + " for topic '"
              + topic
              + "' (subject '"
              + subject
              + "', schema id "
              + id
              + ", schema "
              + schema.getFullName()
              + "): "
              + e.getMessage(),
          e);
    }
  }

  private DatumWriter<Object> writer(Schema schema, Object data) {
    if (data instanceof SpecificRecord) {
      return specificWriters.computeIfAbsent(
          schema,
          s -> {
            // The class's own model knows its logical-type conversions (timestamp-millis as
            // Instant, ...).
            SpecificData model =
                data instanceof SpecificRecordBase
                    ? ((SpecificRecordBase) data).getSpecificData()
                    : SpecificData.getForClass(data.getClass());
            return new SpecificDatumWriter<>(s, model);
          });
    }
    return genericWriters.computeIfAbsent(
        schema, s -> new GenericDatumWriter<>(s, GenericData.get()));
  }

  private Latest latest(String subject) {
    Latest cached = latestBySubject.get(subject);
    long now = System.nanoTime();
    if (cached != null && (latestTtlNanos < 0 || now - cached.fetchedNanos() < latestTtlNanos)) {
      return cached;
    }
    SchemaMetadata meta = client.getLatest(subject);
    Latest fresh = new Latest(meta.id(), client.getById(meta.id()), now);
    latestBySubject.put(subject, fresh);
    return fresh;
  }

  /**
   * Writing a record with another schema is only sound when fields line up position by position,
   * since Avro writers read record fields by position: the parsing canonical forms (names, types,
   * order; no docs or defaults) must match.
   */
  private void checkLayout(Schema recordSchema, Latest latest, String subject, String topic) {
    if (recordSchema == latest.schema() || layoutChecked.get(recordSchema) == latest.schema()) {
      return;
    }
    if (!recordSchema.equals(latest.schema())
        && !SchemaNormalization.toParsingForm(recordSchema)
            .equals(SchemaNormalization.toParsingForm(latest.schema()))) {
      throw new SerializationException(
          "use.latest.version: the record's schema "
              + recordSchema.getFullName()
              + " does not have the same fields in the same order as the latest schema (id "
              + latest.id()
              + ") of subject '"
              + subject
              + "' for topic '"
              + topic
              + "'; regenerate the record class or turn "
              + KafkaAvroSerDeConfig.USE_LATEST_VERSION
              + " off");
    }
    layoutChecked.put(recordSchema, latest.schema());
  }

  private String registryFailure(RegistryException e, String topic, String subject, Schema schema) {
    String what =
        "schema " + schema.getFullName() + " for topic '" + topic + "' (subject '" + subject + "')";
    if (!useLatest && !autoRegister && e.status() == 404) {
      return what
          + " is not registered and "
          + KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS
          + "=false, so it is not registered automatically: register it first. Registry said: "
          + e.getMessage();
    }
    if (e.unreachable()) {
      return "cannot get an id for " + what + ": " + e.getMessage();
    }
    return (useLatest
            ? "cannot fetch the latest version of subject '"
                + subject
                + "' for topic '"
                + topic
                + "': "
            : autoRegister ? "cannot register " + what + ": " : "cannot look up " + what + ": ")
        + e.getMessage();
  }

  @Override
  public void close() {
    if (ownsClient && client != null) {
      client.close();
    }
  }
}
