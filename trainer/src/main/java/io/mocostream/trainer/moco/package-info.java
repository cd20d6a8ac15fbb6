/**
 * MoCo v2 on DJL: {@link io.mocostream.trainer.moco.MocoEngine} (query and key encoders, momentum
 * update, shuffle BN, InfoNCE, queue; step, features, weights, resumable state), {@link
 * io.mocostream.trainer.moco.MocoConfig}, {@link io.mocostream.trainer.moco.KeyQueue} (ring buffer
 * of keys with stream metadata, any batch size) and {@link io.mocostream.trainer.moco.InfoNce}.
 * Reference: facebookresearch/moco, moco/builder.py.
 */
package io.mocostream.trainer.moco;
