/**
 * A live encoder that follows a model on the model topic and hot-swaps to each verified version:
 * {@link io.mocostream.encoder.live.LiveEncoder} (embed images with whatever version is serving,
 * swap atomically with no failed request), {@link io.mocostream.encoder.live.SwapPolicy} (follow
 * latest, pin, quality gate), {@link io.mocostream.encoder.live.SwapListener}, and the values
 * {@link io.mocostream.encoder.live.Embedding} and {@link
 * io.mocostream.encoder.live.CurrentVersion}.
 */
package io.mocostream.encoder.live;
