package io.mocostream.trainer.stream;

import io.mocostream.frames.Reason;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A frame that cannot train: its original record (routed unchanged to the dead-letter topic) and
 * why.
 *
 * @param record the record as consumed, key and value bytes untouched
 * @param reason why, in the shared frame contract's terms
 * @param message what was wrong, naming the frame
 */
record Rejection(ConsumerRecord<byte[], byte[]> record, Reason reason, String message) {}
