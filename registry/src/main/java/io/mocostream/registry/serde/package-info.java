/**
 * Kafka serializers and deserializers for Avro in Confluent's wire format (magic byte 0, 4-byte
 * schema id, Avro binary): {@link io.mocostream.registry.serde.KafkaAvroSerializer}, {@link
 * io.mocostream.registry.serde.KafkaAvroDeserializer} and Serdes for Kafka Streams, configured with
 * Confluent's names ({@link io.mocostream.registry.serde.KafkaAvroSerDeConfig}).
 */
package io.mocostream.registry.serde;
