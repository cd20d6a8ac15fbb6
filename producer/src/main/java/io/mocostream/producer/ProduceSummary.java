package io.mocostream.producer;

import io.mocostream.frames.Reason;
import io.mocostream.producer.validate.Refusal;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a produce run did.
 *
 * @param source the source, as described by it
 * @param topic target topic
 * @param published frames acknowledged by the broker
 * @param bytes image bytes in those frames
 * @param refusedByReason refused inputs per reason (every reason present, zeros included)
 * @param firstRefusals the first refusals, with input and reason (at most {@link
 *     #MAX_LISTED_REFUSALS})
 * @param seconds wall time of the run, from start to the last acknowledgement
 * @param ackSpanSeconds first send to last acknowledgement: the span a throughput comparison should
 *     use
 */
public record ProduceSummary(
    String source,
    String topic,
    long published,
    long bytes,
    Map<Reason, Long> refusedByReason,
    List<Refusal> firstRefusals,
    double seconds,
    double ackSpanSeconds) {

  public static final int MAX_LISTED_REFUSALS = 20;

  public ProduceSummary {
    EnumMap<Reason, Long> all = new EnumMap<>(Reason.class);
    for (Reason r : Reason.values()) {
      all.put(r, refusedByReason == null ? 0L : refusedByReason.getOrDefault(r, 0L));
    }
    refusedByReason = java.util.Collections.unmodifiableMap(all);
    firstRefusals = firstRefusals == null ? List.of() : List.copyOf(firstRefusals);
  }

  public long refused() {
    return refusedByReason.values().stream().mapToLong(Long::longValue).sum();
  }

  public long refused(Reason reason) {
    return refusedByReason.get(reason);
  }

  /** Published frames per second over the whole run. */
  public double rate() {
    return seconds > 0 ? published / seconds : 0;
  }

  /** Published frames per second from the first send to the last acknowledgement. */
  public double ackRate() {
    return ackSpanSeconds > 0 ? published / ackSpanSeconds : 0;
  }

  /** Human-readable lines, as printed at the end of a run. */
  public String format() {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "published %d frames (%.1f MB) from %s to %s in %.1f s: %.1f images/s%n",
            published,
            bytes / 1e6,
            source,
            topic,
            seconds,
            rate()));
    long refused = refused();
    sb.append("refused ").append(refused);
    if (refused > 0) {
      sb.append(": ")
          .append(
              refusedByReason.entrySet().stream()
                  .filter(e -> e.getValue() > 0)
                  .map(e -> e.getKey().code() + " " + e.getValue())
                  .collect(Collectors.joining(", ")));
    }
    sb.append(System.lineSeparator());
    for (Refusal r : firstRefusals) {
      sb.append("  ").append(r).append(System.lineSeparator());
    }
    if (refused > firstRefusals.size()) {
      sb.append("  … and ")
          .append(refused - firstRefusals.size())
          .append(" more (see the log)")
          .append(System.lineSeparator());
    }
    return sb.toString();
  }
}
