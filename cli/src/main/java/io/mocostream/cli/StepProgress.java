package io.mocostream.cli;

import io.mocostream.schemas.EncoderVersion;
import io.mocostream.trainer.stream.TrainerListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training progress: a progress bar (step, loss, images/s, lag, last version) on a terminal, a log
 * line every few seconds otherwise; one line per committed version either way.
 */
final class StepProgress implements TrainerListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StepProgress.class);
  private final ProgressBar bar;
  private final PrintStream out;
  private long lastLogNanos = System.nanoTime();
  private long lastVersion;
  private double knn = Double.NaN;

  StepProgress(long maxSteps, PrintStream out) {
    this.out = out;
    this.bar =
        System.console() == null
            ? null
            : new ProgressBarBuilder()
                .setTaskName("training")
                .setInitialMax(maxSteps > 0 ? maxSteps : -1)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" steps", 1)
                .continuousUpdate()
                .build();
  }

  @Override
  public void onStep(
      long step,
      double loss,
      int images,
      long rejected,
      long skipped,
      double imagesPerSec,
      long lag) {
    String extra =
        String.format(
            Locale.ROOT,
            "loss %.3f · %.1f img/s · lag %s · v%d%s%s",
            loss,
            imagesPerSec,
            lag < 0 ? "?" : String.valueOf(lag),
            lastVersion,
            Double.isNaN(knn) ? "" : String.format(Locale.ROOT, " kNN %.3f", knn),
            rejected + skipped > 0 ? " · rejected " + rejected + " skipped " + skipped : "");
    if (bar != null) {
      bar.stepTo(step);
      bar.setExtraMessage(extra);
    } else if (System.nanoTime() - lastLogNanos > 5_000_000_000L) {
      lastLogNanos = System.nanoTime();
      log.info("step {}: {}", step, extra);
    }
  }

  @Override
  public void onPublished(EncoderVersion v) {
    lastVersion = v.getVersion();
    Double k = v.getMetrics().getKnnTop1();
    knn = k == null ? Double.NaN : k;
    Double head = v.getMetrics().getKnnTop1Head();
    String line =
        String.format(
            Locale.ROOT,
            "version=%d step=%d loss=%s knn_top1=%s knn_top1_head=%s img_s=%.1f" + " sha256=%s",
            v.getVersion(),
            v.getStep(),
            v.getMetrics().getLoss() == null
                ? "-"
                : String.format(Locale.ROOT, "%.4f", v.getMetrics().getLoss()),
            k == null ? "-" : String.format(Locale.ROOT, "%.4f", k),
            head == null ? "-" : String.format(Locale.ROOT, "%.4f", head),
            v.getMetrics().getImagesPerSecond(),
            v.getPayloadSha256());
    if (bar != null) {
      bar.pause();
      out.println(line);
      bar.resume();
    } else {
      out.println(line);
    }
  }

  @Override
  public void onRecovered(long step, String cause) {
    log.warn("rolled back to step {} after: {}", step, cause);
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
