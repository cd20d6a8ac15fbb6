package io.mocostream.producer.publish;

/**
 * A frame the broker acknowledged (acks=all): where it landed and which per-source sequence number
 * it got.
 */
public record PublishedFrame(
    String topic, int partition, long offset, String sourceId, long sequence, int bytes) {}
