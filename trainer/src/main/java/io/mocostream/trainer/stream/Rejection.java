package io.mocostream.trainer.stream;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A frame that cannot train: its original record (routed unchanged to the dead-letter topic) and why.
 *
 * @param record  the record as consumed, key and value bytes untouched
 * @param reason  machine-readable reason (DESERIALIZE, EMPTY, TOO_MANY_BYTES, TOO_MANY_PIXELS, UNDECODABLE, ...)
 * @param message what was wrong, naming the frame
 */
record Rejection(ConsumerRecord<byte[], byte[]> record, String reason, String message) {}
