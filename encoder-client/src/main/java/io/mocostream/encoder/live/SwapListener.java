package io.mocostream.encoder.live;

import io.mocostream.encoder.client.RefusedVersion;

/**
 * Hears what a {@link LiveEncoder} did with each version, on its subscription thread, in topic
 * order. Keep it quick: the next version waits for it. A listener that throws is logged and
 * counted; the encoder carries on.
 */
public interface SwapListener {

  /**
   * {@code version} now serves every new request.
   *
   * @param swapMillis milliseconds from the version's verification to serving it (mostly loading
   *     the weights)
   */
  default void onAccepted(CurrentVersion version, long swapMillis) {}

  /**
   * A version that is not served: refused by the subscriber's checks (SHA-256, signature, chunks,
   * not newer), because its weights do not load ({@code UNLOADABLE}), or by the swap policy ({@code
   * POLICY}). The version served before keeps serving.
   */
  default void onRefused(RefusedVersion refused) {}
}
