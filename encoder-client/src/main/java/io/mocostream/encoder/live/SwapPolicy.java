package io.mocostream.encoder.live;

import io.mocostream.schemas.EncoderVersion;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * Decides whether a verified version replaces the one a {@link LiveEncoder} serves. A refusal is
 * reported to the {@link SwapListener} with reason {@code POLICY} and the message returned here;
 * the version served before keeps serving.
 *
 * <p>The policies:
 *
 * <ul>
 *   <li>{@link #followLatest()}: every verified version, as it arrives;
 *   <li>{@link #pin(long)}: that version only (found by reading the topic from its start, since a
 *       version number says nothing about where it lies);
 *   <li>{@link #qualityGate(double, double)}: versions whose manifest's kNN top-1 is at least a
 *       floor and at most a tolerance below the version served.
 * </ul>
 *
 * Implementations must be thread-safe and quick: they run on the subscription thread before the
 * weights load.
 */
public interface SwapPolicy {

  /**
   * Why {@code candidate} must not replace {@code serving}, or empty to serve it.
   *
   * @param candidate a verified manifest, newer than any accepted before
   * @param serving the version served now, if any
   * @return a message naming the version and the numbers that decided it, or empty
   */
  Optional<String> refusal(EncoderVersion candidate, Optional<CurrentVersion> serving);

  /**
   * The only version this policy serves, if it pins one (the live encoder then reads the topic from
   * its start).
   */
  default OptionalLong pinnedVersion() {
    return OptionalLong.empty();
  }

  /** Serves every verified version. */
  static SwapPolicy followLatest() {
    return FollowLatest.INSTANCE;
  }

  /** Serves {@code version} and nothing else. */
  static SwapPolicy pin(long version) {
    return new Pinned(version);
  }

  /**
   * Serves a version only if its kNN top-1 is at least {@code minKnnTop1} and, when the version
   * served has a kNN top-1 too, at least that minus {@code maxRegression}. A version whose manifest
   * has no kNN top-1 is refused: the gate cannot vouch for it.
   *
   * <p>Start-up enters the topic at its newest version only (older ones are not read): if the gate
   * refuses that one (below the floor), nothing serves until a later version passes; {@code
   * awaitReady} says so.
   *
   * @param minKnnTop1 floor, in 0..1
   * @param maxRegression largest tolerated drop against the version served, in 0..1 (0: never
   *     worse)
   */
  static SwapPolicy qualityGate(double minKnnTop1, double maxRegression) {
    return new QualityGate(minKnnTop1, maxRegression);
  }

  /** {@link #followLatest()}. */
  enum FollowLatest implements SwapPolicy {
    INSTANCE;

    @Override
    public Optional<String> refusal(EncoderVersion candidate, Optional<CurrentVersion> serving) {
      return Optional.empty();
    }

    @Override
    public String toString() {
      return "follow-latest";
    }
  }

  /** {@link #pin(long)}. */
  record Pinned(long version) implements SwapPolicy {
    public Pinned {
      if (version < 1) {
        throw new IllegalArgumentException("pinned version must be >= 1, got " + version);
      }
    }

    @Override
    public Optional<String> refusal(EncoderVersion candidate, Optional<CurrentVersion> serving) {
      return candidate.getVersion() == version
          ? Optional.empty()
          : Optional.of(
              "model "
                  + candidate.getModelName()
                  + " version "
                  + candidate.getVersion()
                  + " is not the pinned version "
                  + version);
    }

    @Override
    public OptionalLong pinnedVersion() {
      return OptionalLong.of(version);
    }

    @Override
    public String toString() {
      return "pin(" + version + ")";
    }
  }

  /** {@link #qualityGate(double, double)}. */
  record QualityGate(double minKnnTop1, double maxRegression) implements SwapPolicy {
    public QualityGate {
      if (!(minKnnTop1 >= 0 && minKnnTop1 <= 1)) {
        throw new IllegalArgumentException("minKnnTop1 must be in 0..1, got " + minKnnTop1);
      }
      if (!(maxRegression >= 0 && maxRegression <= 1)) {
        throw new IllegalArgumentException("maxRegression must be in 0..1, got " + maxRegression);
      }
    }

    @Override
    public Optional<String> refusal(EncoderVersion candidate, Optional<CurrentVersion> serving) {
      String what = "model " + candidate.getModelName() + " version " + candidate.getVersion();
      OptionalDouble knn = CurrentVersion.knnTop1(candidate.getMetrics());
      if (knn.isEmpty() || Double.isNaN(knn.getAsDouble())) {
        return Optional.of(
            what
                + " has no kNN top-1 in its manifest; the quality gate (floor "
                + fmt(minKnnTop1)
                + ") cannot vouch for it");
      }
      double k = knn.getAsDouble();
      if (k < minKnnTop1) {
        return Optional.of(
            what + ": kNN top-1 " + fmt(k) + " is below the floor " + fmt(minKnnTop1));
      }
      if (serving.isPresent() && serving.get().knnTop1().isPresent()) {
        CurrentVersion s = serving.get();
        double served = s.knnTop1().getAsDouble();
        // A small epsilon so that a drop of exactly maxRegression (as written in decimal) is
        // tolerated.
        if (served - k > maxRegression + 1e-12) {
          return Optional.of(
              what
                  + ": kNN top-1 "
                  + fmt(k)
                  + " regresses by "
                  + fmt(served - k)
                  + " from version "
                  + s.version()
                  + "'s "
                  + fmt(served)
                  + ", more than the tolerated "
                  + fmt(maxRegression));
        }
      }
      return Optional.empty();
    }

    private static String fmt(double x) {
      return String.format(Locale.ROOT, "%.4f", x);
    }

    @Override
    public String toString() {
      return "quality-gate(min=" + minKnnTop1 + ", maxRegression=" + maxRegression + ")";
    }
  }
}
