package io.mocostream.registry.serde;

import io.mocostream.registry.client.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Typed Serde of generated Avro classes for Kafka Streams, on {@link KafkaAvroSerializer} and
 * {@link KafkaAvroDeserializer} with {@code specific.avro.reader=true}. Given the class, records
 * are read into it whatever the writer schema's name (as Confluent's {@code
 * specific.avro.value.type}).
 */
public class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {
  private final Class<T> type;
  private final KafkaAvroSerializer serializer;
  private final KafkaAvroDeserializer deserializer;

  /**
   * For reflective construction (default.value.serde): reads into the class the writer schema
   * names.
   */
  public SpecificAvroSerde() {
    this(null, null);
  }

  public SpecificAvroSerde(Class<T> type) {
    this(type, null);
  }

  /** On a shared client; {@code type} may be null. */
  public SpecificAvroSerde(Class<T> type, SchemaRegistryClient client) {
    this.type = type;
    this.serializer = client == null ? new KafkaAvroSerializer() : new KafkaAvroSerializer(client);
    this.deserializer =
        client == null ? new KafkaAvroDeserializer() : new KafkaAvroDeserializer(client);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Map<String, Object> withReader = new HashMap<>(configs);
    withReader.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true);
    if (type != null) {
      withReader.put(
          isKey
              ? KafkaAvroSerDeConfig.SPECIFIC_AVRO_KEY_TYPE_CONFIG
              : KafkaAvroSerDeConfig.SPECIFIC_AVRO_VALUE_TYPE_CONFIG,
          type);
    }
    serializer.configure(withReader, isKey);
    deserializer.configure(withReader, isKey);
  }

  @Override
  public Serializer<T> serializer() {
    return new Serializer<>() {
      @Override
      public byte[] serialize(String topic, T data) {
        return serializer.serialize(topic, data);
      }

      @Override
      public void configure(Map<String, ?> configs, boolean isKey) {
        SpecificAvroSerde.this.configure(configs, isKey);
      }
    };
  }

  @Override
  public Deserializer<T> deserializer() {
    return new Deserializer<>() {
      @Override
      public T deserialize(String topic, byte[] data) {
        Object value = deserializer.deserialize(topic, data);
        if (value != null && type != null && !type.isInstance(value)) {
          throw new SerializationException(
              "record of topic '"
                  + topic
                  + "' is a "
                  + value.getClass().getName()
                  + ", expected "
                  + type.getName());
        }
        @SuppressWarnings("unchecked")
        T typed = (T) value;
        return typed;
      }

      @Override
      public void configure(Map<String, ?> configs, boolean isKey) {
        SpecificAvroSerde.this.configure(configs, isKey);
      }
    };
  }

  @Override
  public void close() {
    serializer.close();
    deserializer.close();
  }
}
