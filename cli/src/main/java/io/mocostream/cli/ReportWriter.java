package io.mocostream.cli;

import io.mocostream.schemas.EncoderVersion;
import io.mocostream.trainer.stream.TrainerConfig;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The demo's report: loss, kNN top-1 (against the random-init and raw-pixel baselines) and images/s
 * over steps, as one PNG (JFreeChart) and an HTML page with the figures.
 */
class ReportWriter {
  private final double randomInit;
  private final double rawPixels;
  private final XYSeries loss = new XYSeries("loss");
  private final XYSeries knn = new XYSeries("kNN top-1");
  private final XYSeries throughput = new XYSeries("images/s");
  private final List<EncoderVersion> versions = new ArrayList<>();
  private long lastStep;
  private long maxLag;

  ReportWriter(double randomInit, double rawPixels) {
    this.randomInit = randomInit;
    this.rawPixels = rawPixels;
  }

  synchronized void addStep(long step, double l, double imagesPerSecond, long lag) {
    lastStep = step;
    maxLag = Math.max(maxLag, lag);
    if (Double.isFinite(l)) {
      loss.add(step, l);
    }
    if (imagesPerSecond > 0) {
      throughput.add(step, imagesPerSecond);
    }
  }

  synchronized void addVersion(EncoderVersion v) {
    versions.add(v);
    if (v.getMetrics().getKnnTop1() != null) {
      knn.add((double) v.getStep(), v.getMetrics().getKnnTop1());
    }
  }

  /** The newest version's kNN beats the random-init encoder's by at least a point. */
  synchronized boolean improved() {
    return finalKnn() >= randomInit + 0.01;
  }

  private double finalKnn() {
    for (int i = versions.size() - 1; i >= 0; i--) {
      Double k = versions.get(i).getMetrics().getKnnTop1();
      if (k != null) {
        return k;
      }
    }
    return Double.NaN;
  }

  synchronized String summary(long lastVersion) {
    double k = finalKnn();
    return String.format(
        Locale.ROOT,
        "summary: %d steps, %d versions (last v%d), kNN top-1 %.4f vs random init %.4f "
            + "(%+.1f points) and raw pixels %.4f%ndemo_knn_top1=%.4f random_init=%.4f raw_pixels=%.4f improved=%s",
        lastStep,
        versions.size(),
        lastVersion,
        k,
        randomInit,
        100 * (k - randomInit),
        rawPixels,
        k,
        randomInit,
        rawPixels,
        improved());
  }

  synchronized Path write(Path dir, TrainerConfig config, String dataSource) throws IOException {
    Files.createDirectories(dir);
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(new NumberAxis("step"));
    plot.add(subplot(loss, "InfoNCE loss", Color.RED), 1);
    XYPlot knnPlot = subplot(knn, "kNN top-1", new Color(0, 110, 0));
    marker(knnPlot, randomInit, "random init", Color.GRAY);
    marker(knnPlot, rawPixels, "raw pixels", Color.BLUE);
    // The baselines are markers, not data: widen the axis so that they show.
    double lo = Math.min(randomInit, rawPixels);
    double hi = Math.max(randomInit, rawPixels);
    for (int i = 0; i < knn.getItemCount(); i++) {
      lo = Math.min(lo, knn.getY(i).doubleValue());
      hi = Math.max(hi, knn.getY(i).doubleValue());
    }
    knnPlot.getRangeAxis().setRange(Math.max(0, lo - 0.05), Math.min(1, hi + 0.05));
    plot.add(knnPlot, 1);
    plot.add(subplot(throughput, "images/s", Color.DARK_GRAY), 1);
    JFreeChart chart =
        new JFreeChart(
            "moco-stream demo: " + config.modelName(), JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    chart.setBackgroundPaint(Color.WHITE);
    Path png = dir.resolve("report.png");
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 900);

    StringBuilder rows = new StringBuilder();
    for (EncoderVersion v : versions) {
      rows.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%.1f</td><td><code>%s"
                  + "</code></td></tr>%n",
              v.getVersion(),
              v.getStep(),
              fmt(v.getMetrics().getLoss()),
              fmt(v.getMetrics().getKnnTop1()),
              v.getMetrics().getImagesPerSecond(),
              v.getPayloadSha256().substring(0, 16)));
    }
    String html =
        """
        <!doctype html><html><head><meta charset="utf-8"><title>moco-stream demo</title>
        <style>body{font-family:sans-serif;max-width:960px;margin:2em auto}td,th{padding:2px 10px;text-align:right}</style>
        </head><body><h1>moco-stream demo</h1>
        <p>Data: %s. Encoder: %s. Baselines on the probe: random-init encoder kNN %.4f, raw pixels %.4f.</p>
        <p>%s</p>
        <img src="report.png" width="900">
        <h2>Versions</h2><table><tr><th>version</th><th>step</th><th>loss</th><th>kNN top-1</th><th>img/s</th>
        <th>sha256</th></tr>
        %s</table>
        <h2>Configuration</h2><pre>%s</pre></body></html>
        """
            .formatted(
                escape(dataSource),
                escape(config.moco().architecture().toString()),
                randomInit,
                rawPixels,
                escape(
                        summary(
                            versions.isEmpty()
                                ? 0
                                : versions.get(versions.size() - 1).getVersion()))
                    .replace("\n", "<br>"),
                rows,
                escape(config.properties().toString().replace(", ", "\n")));
    Path index = dir.resolve("report.html");
    Files.writeString(index, html);
    return index;
  }

  private static String fmt(Double d) {
    return d == null ? "-" : String.format(Locale.ROOT, "%.4f", d);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private static XYPlot subplot(XYSeries series, String label, Color color) {
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, series.getItemCount() < 40);
    renderer.setSeriesPaint(0, color);
    XYPlot p = new XYPlot(new XYSeriesCollection(series), null, new NumberAxis(label), renderer);
    p.setBackgroundPaint(Color.WHITE);
    p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    return p;
  }

  private static void marker(XYPlot plot, double value, String label, Color color) {
    ValueMarker m =
        new ValueMarker(
            value,
            color,
            new BasicStroke(
                1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    m.setLabel(label + String.format(Locale.ROOT, " %.3f", value));
    m.setLabelAnchor(
        org.jfree.chart.ui.RectangleAnchor.TOP_RIGHT); // inside the plot, not cut at its left edge
    m.setLabelTextAnchor(org.jfree.chart.ui.TextAnchor.BOTTOM_RIGHT);
    plot.addRangeMarker(m);
  }
}
