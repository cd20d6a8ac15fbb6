package io.mocostream.registry.serde;

import io.mocostream.registry.client.SchemaRegistryClientConfig;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Settings of {@link KafkaAvroSerializer} and {@link KafkaAvroDeserializer}, named exactly as
 * Confluent's {@code KafkaAvroSerializerConfig}/{@code KafkaAvroDeserializerConfig} name them, plus
 * every client setting of {@link SchemaRegistryClientConfig} (URL, basic auth, TLS, timeouts). A
 * producer or consumer config map can be handed over as is: unrelated keys are ignored.
 */
public final class KafkaAvroSerDeConfig extends AbstractConfig {

  public static final String SCHEMA_REGISTRY_URL_CONFIG =
      SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG;

  public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
  public static final String AUTO_REGISTER_SCHEMAS_DOC =
      "Serializer: register the record's schema under its subject when it is not registered yet. With false the"
          + " schema is only looked up (POST /subjects/{subject}) and serializing fails when it is not registered.";

  public static final String USE_LATEST_VERSION = "use.latest.version";
  public static final String USE_LATEST_VERSION_DOC =
      "Serializer: write with the subject's latest registered schema (and its id) instead of the record's own; the"
          + " two must have the same fields in the same order. Deserializer (generic records only): read with the"
          + " latest schema of the subject as reader schema, so old data comes out in the current shape.";

  public static final String LATEST_CACHE_TTL = "latest.cache.ttl.sec";
  public static final String LATEST_CACHE_TTL_DOC =
      "How long the latest version fetched for use.latest.version is reused, in seconds; -1 (the default, as in"
          + " Confluent) keeps it for the life of the serializer.";

  public static final String SPECIFIC_AVRO_READER_CONFIG = "specific.avro.reader";
  public static final String SPECIFIC_AVRO_READER_DOC =
      "Deserializer: return generated SpecificRecord classes (resolved from the writer schema's full name, or the"
          + " class in specific.avro.key.type/specific.avro.value.type) instead of GenericRecord. Data is read with"
          + " the writer schema fetched by id and resolved to the class's schema, so schema evolution works.";

  public static final String SPECIFIC_AVRO_KEY_TYPE_CONFIG = "specific.avro.key.type";
  public static final String SPECIFIC_AVRO_KEY_TYPE_DOC =
      "Deserializer with specific.avro.reader=true: the SpecificRecord class keys are read into, whatever the"
          + " writer schema's name. Unset: the class named by the writer schema.";

  public static final String SPECIFIC_AVRO_VALUE_TYPE_CONFIG = "specific.avro.value.type";
  public static final String SPECIFIC_AVRO_VALUE_TYPE_DOC =
      "Deserializer with specific.avro.reader=true: the SpecificRecord class values are read into, whatever the"
          + " writer schema's name. Unset: the class named by the writer schema.";

  public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
  public static final String KEY_SUBJECT_NAME_STRATEGY_DOC =
      "Subject naming for keys: TopicNameStrategy (<topic>-key, the default), RecordNameStrategy (<record full"
          + " name>) or TopicRecordNameStrategy (<topic>-<record full name>); Confluent's class names"
          + " (io.confluent.kafka.serializers.subject.TopicNameStrategy, ...) are accepted too.";

  public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
  public static final String VALUE_SUBJECT_NAME_STRATEGY_DOC =
      "Subject naming for values: TopicNameStrategy (<topic>-value, the default), RecordNameStrategy or"
          + " TopicRecordNameStrategy; Confluent's class names are accepted too.";

  private static final ConfigDef CONFIG =
      SchemaRegistryClientConfig.addTo(new ConfigDef())
          .define(
              AUTO_REGISTER_SCHEMAS,
              Type.BOOLEAN,
              true,
              Importance.MEDIUM,
              AUTO_REGISTER_SCHEMAS_DOC)
          .define(USE_LATEST_VERSION, Type.BOOLEAN, false, Importance.LOW, USE_LATEST_VERSION_DOC)
          .define(LATEST_CACHE_TTL, Type.LONG, -1L, Importance.LOW, LATEST_CACHE_TTL_DOC)
          .define(
              SPECIFIC_AVRO_READER_CONFIG,
              Type.BOOLEAN,
              false,
              Importance.LOW,
              SPECIFIC_AVRO_READER_DOC)
          .define(
              SPECIFIC_AVRO_KEY_TYPE_CONFIG,
              Type.CLASS,
              null,
              Importance.LOW,
              SPECIFIC_AVRO_KEY_TYPE_DOC)
          .define(
              SPECIFIC_AVRO_VALUE_TYPE_CONFIG,
              Type.CLASS,
              null,
              Importance.LOW,
              SPECIFIC_AVRO_VALUE_TYPE_DOC)
          .define(
              KEY_SUBJECT_NAME_STRATEGY,
              Type.STRING,
              SubjectNameStrategy.TOPIC.name,
              Importance.LOW,
              KEY_SUBJECT_NAME_STRATEGY_DOC)
          .define(
              VALUE_SUBJECT_NAME_STRATEGY,
              Type.STRING,
              SubjectNameStrategy.TOPIC.name,
              Importance.LOW,
              VALUE_SUBJECT_NAME_STRATEGY_DOC);

  public KafkaAvroSerDeConfig(Map<?, ?> originals) {
    super(CONFIG, originals, false);
  }

  /** A copy of the definitions (names, types, defaults, docs). */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  SubjectNameStrategy subjectNameStrategy(boolean isKey) {
    String name = isKey ? KEY_SUBJECT_NAME_STRATEGY : VALUE_SUBJECT_NAME_STRATEGY;
    return SubjectNameStrategy.parse(name, getString(name));
  }
}
