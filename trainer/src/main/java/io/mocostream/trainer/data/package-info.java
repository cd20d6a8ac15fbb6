/**
 * Image data for the trainer: decoding {@link io.mocostream.schemas.ImageFrame} payloads into 8-bit
 * {@link io.mocostream.vision.image.DecodedImage}s under {@link io.mocostream.vision.image.DecodeLimits}
 * (refusals carry a machine-readable {@link io.mocostream.vision.image.FrameRejectedException.Reason} for the
 * dead-letter topic), reading labelled IDX sets ({@link io.mocostream.trainer.data.IdxDataset}), and finding
 * Fashion-MNIST offline ({@link io.mocostream.trainer.data.Datasets}).
 */
package io.mocostream.trainer.data;
