package io.mocostream.encoder.client;

/**
 * Receives a subscriber's verdicts, in the order of the model topic, on the thread that polls. A
 * listener that throws is logged and counted; the subscriber carries on with the next version.
 */
public interface VersionListener {

  /** A version that passed every check. */
  void onAccepted(VerifiedVersion version);

  /** A version that failed a check; the default only relies on the subscriber's own log line. */
  default void onRefused(RefusedVersion refused) {}
}
