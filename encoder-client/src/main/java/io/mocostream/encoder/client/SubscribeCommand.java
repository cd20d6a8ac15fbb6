package io.mocostream.encoder.client;

import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.schemas.EncoderVersion;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * {@code mocostream subscribe}: follows a model and prints one line per version.
 *
 * <pre>
 * version=&lt;v&gt; step=&lt;s&gt; knn_top1=&lt;x|-&gt; sha256=&lt;hex&gt; bytes=&lt;n&gt; key=&lt;keyId&gt;
 * refused version=&lt;v&gt; reason=&lt;REASON&gt; &lt;message&gt;
 * </pre>
 */
public final class SubscribeCommand {
  private static final Duration POLL = Duration.ofMillis(200);

  private SubscribeCommand() {}

  /**
   * Runs until {@code maxVersions} versions were printed, the timeout passed, or the thread is
   * interrupted.
   *
   * @throws IllegalArgumentException when the trusted keys cannot be loaded (the message names the
   *     path)
   */
  public static void run(SubscribeOptions o, PrintStream out) {
    ModelSource source =
        ModelSource.of(o.bootstrap(), o.registryUrl(), o.model())
            .withTopic(o.topic())
            .withTrust(TrustedKeys.load(o.trust()));
    long deadline =
        o.timeout() == null ? Long.MAX_VALUE : System.nanoTime() + o.timeout().toNanos();
    int[] printed = {0};
    VersionListener printer =
        new VersionListener() {
          @Override
          public void onAccepted(VerifiedVersion v) {
            if (full()) {
              return;
            }
            out.println(acceptedLine(v.manifest()));
            out.flush();
            printed[0]++;
          }

          @Override
          public void onRefused(RefusedVersion r) {
            if (full()) {
              return;
            }
            // The message may quote what a record said: RefusedVersion keeps it printable and on
            // one line.
            out.println(
                "refused version="
                    + r.version()
                    + " reason="
                    + r.reason()
                    + " "
                    + Untrusted.text(r.message(), 4096));
            out.flush();
            printed[0]++;
          }

          // One poll may complete more versions than asked for: print exactly maxVersions.
          private boolean full() {
            return o.maxVersions() > 0 && printed[0] >= o.maxVersions();
          }
        };
    try (VersionSubscriber subscriber =
        VersionSubscriber.builder(source)
            .startPosition(o.fromBeginning() ? StartPosition.EARLIEST : StartPosition.NEWEST)
            .highWaterMarks(o.highWaterFile())
            .maxAge(o.maxAge())
            .listener(printer)
            .consumerConfig(o.clientConfig())
            .build()) {
      while ((o.maxVersions() == 0 || printed[0] < o.maxVersions())
          && System.nanoTime() < deadline
          && !Thread.currentThread().isInterrupted()) {
        long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        subscriber.poll(left < POLL.toMillis() ? Duration.ofMillis(left) : POLL);
      }
    }
  }

  /**
   * The line printed for an accepted version; every string from the manifest escaped (see {@link
   * Untrusted}).
   */
  public static String acceptedLine(EncoderVersion m) {
    Double knn = m.getMetrics() == null ? null : m.getMetrics().getKnnTop1();
    return "version="
        + m.getVersion()
        + " step="
        + m.getStep()
        + " knn_top1="
        + (knn == null ? "-" : String.format(Locale.ROOT, "%.4f", knn))
        + " sha256="
        + Untrusted.text(m.getPayloadSha256(), 80)
        + " bytes="
        + m.getPayloadBytes()
        + " key="
        + Untrusted.text(m.getKeyId(), 80);
  }
}
