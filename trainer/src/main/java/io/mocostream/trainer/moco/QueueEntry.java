package io.mocostream.trainer.moco;

import java.util.Objects;

/**
 * Where one key in the queue came from: the frame's source (camera) and stream position, the step
 * that enqueued it and the frame's capture time. Kept per queue slot so that negatives can be
 * traced (lineage) and masked (same source, close in time: likely false negatives).
 *
 * @param sourceId the frame's source id; {@value #UNKNOWN_SOURCE} when not known (never matched by
 *     masking)
 * @param partition Kafka partition, or -1 when the frame did not come from Kafka
 * @param offset Kafka offset, or -1
 * @param step trainer step that enqueued the key (set by the engine; the caller's value is ignored)
 * @param timestampMs capture time in epoch milliseconds
 */
public record QueueEntry(String sourceId, int partition, long offset, long step, long timestampMs) {

  public static final String UNKNOWN_SOURCE = "";

  public QueueEntry {
    Objects.requireNonNull(sourceId, "sourceId (use QueueEntry.UNKNOWN_SOURCE)");
  }

  /** An entry for a frame with no stream position (tests, benchmarks, datasets). */
  public static QueueEntry anonymous(long index) {
    return new QueueEntry(UNKNOWN_SOURCE, -1, index, -1, 0);
  }

  QueueEntry withStep(long newStep) {
    return newStep == step
        ? this
        : new QueueEntry(sourceId, partition, offset, newStep, timestampMs);
  }
}
