package io.mocostream.producer;

import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Shows a run's progress: a terminal progress bar, periodic log lines, or nothing. Thread-safe. */
interface Progress extends AutoCloseable {
  long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

  void update(long published, long refused);

  @Override
  void close();

  static Progress create(ProduceOptions.ProgressMode mode, String task, long max) {
    ProduceOptions.ProgressMode m = mode;
    if (m == ProduceOptions.ProgressMode.AUTO) {
      m =
          System.console() != null
              ? ProduceOptions.ProgressMode.BAR
              : ProduceOptions.ProgressMode.LOG;
    }
    return switch (m) {
      case BAR -> new Bar(task, max);
      case LOG -> new LogLines(task);
      case QUIET, AUTO ->
          new Progress() {
            @Override
            public void update(long published, long refused) {}

            @Override
            public void close() {}
          };
    };
  }

  /**
   * me.tongfei:progressbar: count, speed (images/s) and an extra "refused N"; redraws on its own
   * thread.
   */
  final class Bar implements Progress {
    private final ProgressBar bar;
    private long lastRefused = -1;

    Bar(String task, long max) {
      bar =
          new ProgressBarBuilder()
              .setTaskName(task)
              .setInitialMax(max > 0 ? max : -1)
              .setUnit(" img", 1)
              .showSpeed()
              .setSpeedUnit(ChronoUnit.SECONDS)
              .setUpdateIntervalMillis(250)
              .build();
    }

    @Override
    public synchronized void update(long published, long refused) {
      bar.stepTo(published);
      if (refused != lastRefused) {
        lastRefused = refused;
        bar.setExtraMessage("refused " + refused);
      }
    }

    @Override
    public synchronized void close() {
      bar.close();
    }
  }

  /** A log line every few seconds: for logs, CI and anything that is not a terminal. */
  final class LogLines implements Progress {
    private static final Logger log = LoggerFactory.getLogger(Progress.class);
    private final String task;
    private long lastNanos = System.nanoTime();
    private long lastPublished;

    LogLines(String task) {
      this.task = task;
    }

    @Override
    public synchronized void update(long published, long refused) {
      long now = System.nanoTime();
      if (now - lastNanos >= LOG_INTERVAL_NANOS) {
        double rate = (published - lastPublished) * 1e9 / (now - lastNanos);
        log.info(
            String.format(
                Locale.ROOT,
                "%s: published %d (%.1f images/s), refused %d",
                task,
                published,
                rate,
                refused));
        lastNanos = now;
        lastPublished = published;
      }
    }

    @Override
    public void close() {}
  }
}
