/**
 * {@link io.mocostream.registry.server.EmbeddedSchemaRegistry}: a Confluent-compatible registry
 * inside the JVM, storing schemas in a compacted Kafka topic as Confluent does. Everything else
 * here is package-private.
 */
package io.mocostream.registry.server;
