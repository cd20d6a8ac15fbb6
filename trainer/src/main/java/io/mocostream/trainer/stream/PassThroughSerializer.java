package io.mocostream.trainer.stream;

import io.mocostream.registry.serde.KafkaAvroSerializer;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The trainer's one transactional producer writes Avro records (step log, state, versions) and, to
 * the dead-letter topic, rejected frames byte for byte as they were consumed. Both must go through
 * the same producer to be in the same transaction, so raw {@code byte[]} values pass through and
 * everything else is Avro.
 */
final class PassThroughSerializer implements Serializer<Object> {
  private final KafkaAvroSerializer avro = new KafkaAvroSerializer();

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    avro.configure(configs, isKey);
  }

  @Override
  public byte[] serialize(String topic, Object data) {
    return data instanceof byte[] raw ? raw : avro.serialize(topic, data);
  }

  @Override
  public byte[] serialize(String topic, Headers headers, Object data) {
    return data instanceof byte[] raw ? raw : avro.serialize(topic, headers, data);
  }

  @Override
  public void close() {
    avro.close();
  }
}
