package io.mocostream.registry.serde;

import io.mocostream.registry.client.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serde of {@link GenericRecord} for Kafka Streams, on {@link KafkaAvroSerializer}/{@link
 * KafkaAvroDeserializer}.
 */
public class GenericAvroSerde implements Serde<GenericRecord> {
  private final KafkaAvroSerializer serializer;
  private final KafkaAvroDeserializer deserializer;

  public GenericAvroSerde() {
    this(null);
  }

  public GenericAvroSerde(SchemaRegistryClient client) {
    this.serializer = client == null ? new KafkaAvroSerializer() : new KafkaAvroSerializer(client);
    this.deserializer =
        client == null ? new KafkaAvroDeserializer() : new KafkaAvroDeserializer(client);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Map<String, Object> generic = new HashMap<>(configs);
    generic.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, false);
    serializer.configure(generic, isKey);
    deserializer.configure(generic, isKey);
  }

  @Override
  public Serializer<GenericRecord> serializer() {
    return (topic, data) -> serializer.serialize(topic, data);
  }

  @Override
  public Deserializer<GenericRecord> deserializer() {
    return (topic, data) -> {
      Object value = deserializer.deserialize(topic, data);
      if (value != null && !(value instanceof GenericRecord)) {
        throw new SerializationException(
            "record of topic '"
                + topic
                + "' is a "
                + value.getClass().getName()
                + " (a primitive schema), not a GenericRecord");
      }
      return (GenericRecord) value;
    };
  }

  @Override
  public void close() {
    serializer.close();
    deserializer.close();
  }
}
