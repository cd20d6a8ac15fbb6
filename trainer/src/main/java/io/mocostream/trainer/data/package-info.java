/**
 * Image data for the trainer: decoding {@link io.mocostream.schemas.ImageFrame} payloads into 8-bit
 * {@link io.mocostream.frames.DecodedImage}s under {@link io.mocostream.frames.FrameLimits}
 * (refusals carry a machine-readable {@link io.mocostream.frames.Reason} for the dead-letter
 * topic), reading labelled IDX sets ({@link io.mocostream.trainer.data.IdxDataset}), and finding
 * Fashion-MNIST offline ({@link io.mocostream.trainer.data.Datasets}).
 */
package io.mocostream.trainer.data;
