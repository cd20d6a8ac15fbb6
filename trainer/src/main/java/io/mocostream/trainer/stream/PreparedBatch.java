package io.mocostream.trainer.stream;

import io.mocostream.schemas.StepSegment;
import io.mocostream.trainer.moco.QueueEntry;
import io.mocostream.vision.augment.BatchAugmenter;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * One micro-batch ready for a MoCo step: both views of every usable frame, the frames' queue
 * metadata, the records that were rejected, and where the batch came from.
 *
 * @param n usable frames
 * @param queryViews n×C×S×S, view 0 of each frame
 * @param keyViews n×C×S×S, view 1 of each frame
 * @param entries queue metadata of each frame, in batch order
 * @param rejected records of the batch's ranges that go to the dead-letter topic instead
 * @param segments offset ranges in batch order (the step log's record of the batch)
 * @param nextOffsets per partition, the offset after the batch's last record (what a checkpoint
 *     commits)
 * @param bytes payload bytes of the batch's records
 * @param items the usable frames' decoded images and positions, in batch order (the replay buffer
 *     keeps them)
 * @param gaps offset ranges retention deleted before they were read, found while forming this batch
 */
record PreparedBatch(
    int n,
    float[] queryViews,
    float[] keyViews,
    List<QueueEntry> entries,
    List<Rejection> rejected,
    List<StepSegment> segments,
    Map<TopicPartition, Long> nextOffsets,
    long bytes,
    List<BatchAugmenter.Item> items,
    List<StepSegment> gaps) {
  PreparedBatch withGaps(List<StepSegment> found) {
    return new PreparedBatch(
        n,
        queryViews,
        keyViews,
        entries,
        rejected,
        segments,
        nextOffsets,
        bytes,
        items,
        List.copyOf(found));
  }
}
