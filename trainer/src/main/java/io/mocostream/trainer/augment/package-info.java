/**
 * MoCo's data augmentation on plain float arrays: {@link io.mocostream.trainer.augment.AugmentConfig} (the v2
 * "aug+" and v1 recipes), {@link io.mocostream.trainer.augment.Augmenter} (two normalised C × S × S views per
 * record, every random choice derived from the run seed and the record's partition/offset, so replays
 * reproduce them exactly) and {@link io.mocostream.trainer.augment.BatchAugmenter} (whole batches on a thread
 * pool, identical results for any thread count).
 */
package io.mocostream.trainer.augment;
