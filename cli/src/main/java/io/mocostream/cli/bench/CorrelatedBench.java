package io.mocostream.cli.bench;

import io.mocostream.producer.source.CorrelatedSource;
import io.mocostream.trainer.moco.MocoConfig;
import io.mocostream.trainer.stream.TrainerConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench correlated}: what a correlated feed costs MoCo and what wins it back. The baseline
 * is {@code bench learn}'s run (Fashion-MNIST as it is: every frame a new image); the same images
 * as the feed of a few fixed cameras ({@code produce --correlated}: each image a burst of drifting
 * frames, cameras interleaved) are trained on for the same time with the replay buffer ({@value
 * TrainerConfig#REPLAY_BUFFER_SIZE_CONFIG}) and same-source masking ({@value
 * MocoConfig#SAME_SOURCE_WINDOW_MS_CONFIG}, one burst long) each on and off. The last line compares
 * the run with both on against the baseline.
 */
public final class CorrelatedBench {
  public static final int DEFAULT_BUFFER = 1024;

  private CorrelatedBench() {}

  /** A correlated run: its name and what it changes over the preset. */
  record Variant(String name, boolean buffer, boolean mask) {}

  static final List<Variant> VARIANTS =
      List.of(
          new Variant("plain", false, false),
          new Variant("mask", false, true),
          new Variant("buffer", true, false),
          new Variant("both", true, true));

  public static String run(
      String bootstrap,
      String registryUrl,
      double minutes,
      int burst,
      int cameras,
      int buffer,
      String runs,
      Map<String, String> overrides,
      PrintStream out)
      throws Exception {
    List<Variant> chosen = new ArrayList<>();
    for (Variant v : VARIANTS) {
      if (runs.equals("all") || runs.equals(v.name())) {
        chosen.add(v);
      }
    }
    if (chosen.isEmpty()) {
      throw new IllegalArgumentException(
          "--runs '" + runs + "': expected all, plain, mask, buffer or both");
    }
    CorrelatedSource.Settings feed =
        new CorrelatedSource.Settings(burst, cameras, CorrelatedSource.DEFAULT_INTERVAL_MS, 0);
    long window = burst * CorrelatedSource.DEFAULT_INTERVAL_MS;
    out.printf(
        Locale.ROOT,
        "correlated bench: %.1f min per run; feed: %d cameras, bursts of %d frames (%d ms apart); "
            + "buffer %d frames; mask window %d ms%n",
        minutes,
        cameras,
        burst,
        CorrelatedSource.DEFAULT_INTERVAL_MS,
        buffer,
        window);

    // One version per run, at its end: no kNN passes (and their time) in between.
    Map<String, String> common = new HashMap<>(overrides);
    common.putIfAbsent(
        TrainerConfig.PUBLISH_EVERY_SECONDS_CONFIG, String.valueOf((long) (minutes * 60) + 3600));
    LearnBench.Result iid =
        LearnBench.train(
            bootstrap, registryUrl, minutes, common, LearnBench.Feed.iid(), "iid", true, out);
    Map<Variant, LearnBench.Result> results = new LinkedHashMap<>();
    for (Variant v : chosen) {
      Map<String, String> settings = new HashMap<>(common);
      if (v.buffer()) {
        settings.put(TrainerConfig.REPLAY_BUFFER_SIZE_CONFIG, String.valueOf(buffer));
      }
      if (v.mask()) {
        settings.put(MocoConfig.SAME_SOURCE_WINDOW_MS_CONFIG, String.valueOf(window));
      }
      results.put(
          v,
          LearnBench.train(
              bootstrap,
              registryUrl,
              minutes,
              settings,
              new LearnBench.Feed(feed),
              "correlated-" + v.name(),
              false,
              out));
    }
    out.printf(
        Locale.ROOT,
        "run iid: knn=%.4f steps=%d img_s=%.1f (raw pixels %.4f, random init %.4f)%n",
        iid.knn(),
        iid.steps(),
        iid.imagesPerSecond(),
        iid.rawPixels(),
        iid.randomInit());
    for (var e : results.entrySet()) {
      out.printf(
          Locale.ROOT,
          "run correlated buffer=%s mask=%s: knn=%.4f steps=%d img_s=%.1f vs_iid=%.3f%n",
          e.getKey().buffer() ? "on" : "off",
          e.getKey().mask() ? "on" : "off",
          e.getValue().knn(),
          e.getValue().steps(),
          e.getValue().imagesPerSecond(),
          e.getValue().knn() / iid.knn());
    }
    // The figure: both remedies on when that run was made, else the one run chosen.
    LearnBench.Result figure =
        results.entrySet().stream()
            .filter(e -> e.getKey().name().equals("both"))
            .map(Map.Entry::getValue)
            .findFirst()
            .orElse(results.values().iterator().next());
    String line =
        String.format(
            Locale.ROOT,
            "iid_knn=%.4f correlated_knn=%.4f correlated_vs_iid=%.3f",
            iid.knn(),
            figure.knn(),
            figure.knn() / iid.knn());
    out.println(line);
    return line;
  }
}
