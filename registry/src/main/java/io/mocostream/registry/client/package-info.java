/**
 * Client of Confluent's schema registry REST API: {@link
 * io.mocostream.registry.client.SchemaRegistryClient} with id and schema caches, settings named as
 * Confluent names them ({@link io.mocostream.registry.client.SchemaRegistryClientConfig}), basic
 * auth, TLS and failover across URLs.
 */
package io.mocostream.registry.client;
