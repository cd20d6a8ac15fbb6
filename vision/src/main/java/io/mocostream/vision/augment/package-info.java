/**
 * MoCo's data augmentation on plain float arrays: {@link
 * io.mocostream.vision.augment.AugmentConfig} (the v2 "aug+" and v1 recipes), {@link
 * io.mocostream.vision.augment.Augmenter} (two normalised C × S × S views per record, every random
 * choice derived from the run seed and the record's partition/offset, so replays reproduce them
 * exactly) and {@link io.mocostream.vision.augment.BatchAugmenter} (whole batches on a thread pool,
 * identical results for any thread count).
 */
package io.mocostream.vision.augment;
