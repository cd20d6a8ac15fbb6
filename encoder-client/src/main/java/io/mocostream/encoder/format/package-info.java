/**
 * The model topic's format, free of Kafka: payload chunking ({@link
 * io.mocostream.encoder.format.PayloadChunks}), SHA-256 ({@link
 * io.mocostream.encoder.format.Sha256}), Ed25519 keys and signatures ({@link
 * io.mocostream.encoder.format.ModelSigning}, {@link io.mocostream.encoder.format.SigningInput},
 * {@link io.mocostream.encoder.format.TrustedKeys}).
 */
package io.mocostream.encoder.format;
