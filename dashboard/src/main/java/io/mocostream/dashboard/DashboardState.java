package io.mocostream.dashboard;

import io.mocostream.frames.Text;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.OffsetRange;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything the page shows, kept in memory with a bound on each part, so that a long or hostile
 * topic cannot grow it: steps per model, versions per model, minutes of dead-letter counts,
 * distinct reasons, recent items. Every string that came from a topic is cut to a length and has
 * its control characters escaped before it is kept; the page then renders it as text (never as
 * markup). Thread-safe: every method holds the object's lock.
 */
final class DashboardState {
  static final int MAX_STEPS = 5000;
  static final int MAX_VERSIONS = 500;
  static final int MAX_LAG_POINTS = 720;
  static final int MAX_DLQ_MINUTES = 240;
  static final int MAX_REASONS = 32;
  static final int MAX_RECENT = 20;
  static final int MAX_FRAMES = 6;
  static final int MAX_ERRORS = 10;
  static final String OTHER_REASON = "(other reasons)";

  private final Map<String, ModelView> models = new LinkedHashMap<>();
  private final TreeMap<Long, Map<String, Long>> dlqMinutes = new TreeMap<>();
  private final Map<String, Long> dlqTotals = new LinkedHashMap<>();
  private final Deque<Map<String, Object>> dlqRecent = new ArrayDeque<>();
  private final Deque<Map<String, Object>> frames = new ArrayDeque<>();
  private final Deque<String> errors = new ArrayDeque<>();
  private long unreadableSteps;
  private long ignoredSteps;
  private long framesNotShown;
  private String framesTopic;
  private long updates;

  /** Untrusted text as it is kept: printable, at most {@code max} characters. */
  static String text(String s, int max) {
    return s == null ? "" : Text.printable(s, max);
  }

  synchronized boolean hasModel(String name) {
    return models.containsKey(name);
  }

  synchronized int modelCount() {
    return models.size();
  }

  synchronized void addModel(String name) {
    models.computeIfAbsent(name, ModelView::new);
    updates++;
  }

  synchronized void step(
      String model, long step, Double loss, int batch, long createdAt, boolean skipped) {
    ModelView m = models.get(model);
    if (m == null) {
      return;
    }
    Double ips = null;
    if (m.lastStepAt > 0 && createdAt > m.lastStepAt && createdAt - m.lastStepAt < 600_000) {
      ips =
          batch
              * 1000.0
              / (createdAt - m.lastStepAt); // images of this step over the time since the last one
    }
    m.lastStepAt = createdAt;
    Double l = skipped || loss == null || !Double.isFinite(loss) ? null : loss;
    m.steps.addLast(new Object[] {step, l, ips, createdAt});
    while (m.steps.size() > MAX_STEPS) {
      m.steps.removeFirst();
    }
    m.stepCount++;
    updates++;
  }

  synchronized void unreadableStep() {
    unreadableSteps++;
  }

  synchronized void ignoredStep() {
    ignoredSteps++;
  }

  synchronized void version(String model, EncoderVersion v, int partition, long offset) {
    ModelView m = models.get(model);
    if (m == null) {
      return;
    }
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("version", v.getVersion());
    row.put("parent", v.getParentVersion());
    row.put("step", v.getStep());
    row.put("createdAt", v.getCreatedAt().toEpochMilli());
    row.put("knn", v.getMetrics().getKnnTop1());
    row.put("loss", v.getMetrics().getLoss());
    row.put("imagesPerSecond", v.getMetrics().getImagesPerSecond());
    row.put("bytes", v.getPayloadBytes());
    row.put("sha256", text(v.getPayloadSha256(), 64));
    row.put("keyId", text(v.getKeyId(), 64));
    row.put(
        "architecture",
        text(
            v.getArchitecture().getBackbone()
                + " "
                + v.getArchitecture().getChannels()
                + "×"
                + v.getArchitecture().getInputSize()
                + "²",
            80));
    row.put("steps", v.getLineage().getFirstStep() + "–" + v.getLineage().getLastStep());
    List<String> ranges = new ArrayList<>();
    for (OffsetRange r : v.getLineage().getRanges()) {
      if (ranges.size() == 8) {
        ranges.add("…");
        break;
      }
      ranges.add(
          text(
              r.getTopic()
                  + "-"
                  + r.getPartition()
                  + " ["
                  + r.getFromOffset()
                  + ", "
                  + r.getToOffset()
                  + ")",
              120));
    }
    row.put("offsets", ranges);
    row.put("at", partition + "@" + offset);
    m.versions.put(v.getVersion(), row);
    while (m.versions.size() > MAX_VERSIONS) {
      m.versions.pollFirstEntry();
    }
    updates++;
  }

  synchronized void refused(String model, String reason) {
    ModelView m = models.get(model);
    if (m != null) {
      m.refused.merge(reason, 1L, Long::sum);
      updates++;
    }
  }

  synchronized void lag(String model, Long total, List<Map<String, Object>> partitions, long at) {
    ModelView m = models.get(model);
    if (m == null) {
      return;
    }
    m.lag = total;
    m.lagPartitions = partitions;
    if (total != null) {
      m.lagHistory.addLast(new long[] {at, total});
      while (m.lagHistory.size() > MAX_LAG_POINTS) {
        m.lagHistory.removeFirst();
      }
    }
    updates++;
  }

  synchronized void baselines(String model, Map<String, Object> b) {
    ModelView m = models.get(model);
    if (m != null) {
      m.baselines = b;
      updates++;
    }
  }

  synchronized void neighbours(String model, Map<String, Object> nn) {
    ModelView m = models.get(model);
    if (m != null) {
      m.neighbours = nn;
      updates++;
    }
  }

  /**
   * One dead letter: {@code reason} is the header as written (bounded), {@code time} the record's
   * timestamp.
   */
  synchronized void deadLetter(
      String reason, String message, String origin, String stage, long time) {
    String r = text(reason, 64);
    if (!dlqTotals.containsKey(r) && dlqTotals.size() >= MAX_REASONS) {
      r = OTHER_REASON;
    }
    dlqTotals.merge(r, 1L, Long::sum);
    long minute = Math.floorDiv(time, 60_000L);
    if (dlqMinutes.size() < MAX_DLQ_MINUTES || minute >= dlqMinutes.firstKey()) {
      dlqMinutes.computeIfAbsent(minute, k -> new LinkedHashMap<>()).merge(r, 1L, Long::sum);
      while (dlqMinutes.size() > MAX_DLQ_MINUTES) {
        dlqMinutes.pollFirstEntry();
      }
    }
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("time", time);
    d.put("reason", r);
    d.put("message", text(message, 300));
    d.put("origin", text(origin, 200));
    d.put("stage", text(stage, 40));
    dlqRecent.addFirst(d);
    while (dlqRecent.size() > MAX_RECENT) {
      dlqRecent.removeLast();
    }
    updates++;
  }

  synchronized void frames(String topic, List<Map<String, Object>> newest, long notShown) {
    framesTopic = topic;
    frames.clear();
    for (Map<String, Object> f : newest) {
      if (frames.size() == MAX_FRAMES) {
        break;
      }
      frames.addLast(f);
    }
    framesNotShown += notShown;
    updates++;
  }

  synchronized void error(String message) {
    String e = text(message, 400);
    if (!errors.isEmpty() && errors.peekFirst().equals(e)) {
      return;
    }
    errors.addFirst(e);
    while (errors.size() > MAX_ERRORS) {
      errors.removeLast();
    }
  }

  synchronized List<String> modelNames() {
    return new ArrayList<>(models.keySet());
  }

  /** What {@code /api/state} returns: plain maps and lists, for Jackson. */
  synchronized Map<String, Object> snapshot() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("now", System.currentTimeMillis());
    out.put("updates", updates);
    List<Map<String, Object>> ms = new ArrayList<>();
    for (ModelView m : models.values()) {
      ms.add(m.snapshot());
    }
    out.put("models", ms);
    Map<String, Object> dlq = new LinkedHashMap<>();
    List<Long> minutes = new ArrayList<>(dlqMinutes.keySet());
    if (!minutes.isEmpty() && dlqMinutes.lastKey() - dlqMinutes.firstKey() < MAX_DLQ_MINUTES) {
      minutes
          .clear(); // every minute of the span, quiet ones as zeros, so the bars stand where they
      // happened
      for (long t = dlqMinutes.firstKey(); t <= dlqMinutes.lastKey(); t++) {
        minutes.add(t);
      }
    }
    Map<String, List<Long>> series = new LinkedHashMap<>();
    for (String r : dlqTotals.keySet()) {
      List<Long> counts = new ArrayList<>();
      for (long minute : minutes) {
        counts.add(dlqMinutes.getOrDefault(minute, Map.of()).getOrDefault(r, 0L));
      }
      series.put(r, counts);
    }
    List<Long> minuteMillis = new ArrayList<>();
    for (long minute : minutes) {
      minuteMillis.add(minute * 60_000L);
    }
    dlq.put("minutes", minuteMillis);
    dlq.put("series", series);
    dlq.put("totals", new LinkedHashMap<>(dlqTotals));
    dlq.put("recent", new ArrayList<>(dlqRecent));
    out.put("deadLetters", dlq);
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("topic", framesTopic);
    f.put("notShown", framesNotShown);
    f.put("newest", new ArrayList<>(frames));
    out.put("frames", f);
    out.put("unreadableSteps", unreadableSteps);
    out.put("ignoredSteps", ignoredSteps);
    out.put("errors", new ArrayList<>(errors));
    return out;
  }

  private static final class ModelView {
    final String name;
    final Deque<Object[]> steps = new ArrayDeque<>(); // {step, loss|null, images/s|null, createdAt}
    final TreeMap<Long, Map<String, Object>> versions = new TreeMap<>();
    final Map<String, Long> refused = new TreeMap<>();
    final Deque<long[]> lagHistory = new ArrayDeque<>(); // {time, total lag}
    long lastStepAt;
    long stepCount;
    Long lag;
    List<Map<String, Object>> lagPartitions = List.of();
    Map<String, Object> baselines;
    Map<String, Object> neighbours;

    ModelView(String name) {
      this.name = name;
    }

    Map<String, Object> snapshot() {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("name", text(name, 128));
      List<Object> step = new ArrayList<>();
      List<Object> loss = new ArrayList<>();
      List<Object> ips = new ArrayList<>();
      for (Object[] s : steps) {
        step.add(s[0]);
        loss.add(s[1]);
        ips.add(s[2]);
      }
      o.put("steps", Map.of("step", step, "loss", loss, "imagesPerSecond", ips));
      o.put("stepCount", stepCount);
      o.put("versions", new ArrayList<>(versions.values()));
      o.put("refused", new TreeMap<>(refused));
      o.put("lag", lag);
      o.put("lagPartitions", lagPartitions);
      List<Long> lt = new ArrayList<>();
      List<Long> lv = new ArrayList<>();
      for (long[] p : lagHistory) {
        lt.add(p[0]);
        lv.add(p[1]);
      }
      o.put("lagHistory", Map.of("time", lt, "lag", lv));
      o.put("baselines", baselines);
      o.put("neighbours", neighbours);
      return o;
    }
  }
}
