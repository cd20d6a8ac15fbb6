package io.mocostream.trainer.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.mocostream.frames.Reason;
import io.mocostream.metrics.Health;
import io.mocostream.schemas.EncoderVersion;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;

/**
 * The trainer's meters, fed as a {@link TrainerListener} (on the training thread) and read by
 * scrapes (any thread): what is written here is volatile or a Micrometer meter. Series (Prometheus
 * names; every one has {@code model}):
 *
 * <ul>
 *   <li>{@code mocostream_trainer_steps_total}, {@code mocostream_trainer_images_total}: steps
 *       taken and images trained this run (a roll-back does not un-count the redone steps: these
 *       count work done);
 *   <li>{@code mocostream_trainer_step}: the step number of the last step (the step log's
 *       numbering);
 *   <li>{@code mocostream_trainer_images_per_second}: throughput since the last commit;
 *   <li>{@code mocostream_trainer_loss}: InfoNCE loss of the last trained step;
 *   <li>{@code mocostream_trainer_version}, {@code mocostream_trainer_knn_top1}, {@code
 *       mocostream_trainer_version_loss}: the last published version, its kNN top-1 accuracy on the
 *       probe set (0–1, NaN without a probe) and its mean loss;
 *   <li>{@code mocostream_trainer_last_publish_timestamp_seconds}: when it was published;
 *   <li>{@code mocostream_trainer_consumer_lag_records{topic,partition}}: records behind the end of
 *       each frames partition, from the trainer's consumer's positions and the end offsets of its
 *       fetches;
 *   <li>{@code mocostream_trainer_steps_skipped_total{reason}}: {@code non_finite} (loss or
 *       gradients) or {@code too_few_frames} (a dead-letter-only step);
 *   <li>{@code mocostream_trainer_dead_letters_total{reason}}: frames sent to the dead-letter
 *       topic, one series per {@link Reason} (its lower-case code);
 *   <li>{@code mocostream_trainer_commit_seconds}, {@code mocostream_trainer_publish_seconds}:
 *       histograms of a whole commit (version, checkpoint, offsets, commitTransaction) and of its
 *       version-publishing part (kNN, weights, chunks);
 *   <li>{@code mocostream_trainer_rollbacks_total}: failed transactions rolled back to the last
 *       commit;
 *   <li>{@code mocostream_trainer_queue_keys}, {@code mocostream_trainer_queue_capacity_keys}:
 *       filled and total slots of the negatives queue; {@code mocostream_trainer_queue_age_steps}:
 *       steps since its oldest key was enqueued; {@code mocostream_trainer_queue_age_seconds}: age
 *       of the oldest key's frame (by record timestamp).
 * </ul>
 *
 * Ready ({@link #health()}): state restored, consumer assigned, and not rolling back after a failed
 * transaction.
 */
public final class TrainerMetrics implements TrainerListener {
  private final Counter steps;
  private final Counter images;
  private final Counter rollbacks;
  private final Counter skippedNonFinite;
  private final Counter skippedTooFew;
  private final Map<Reason, Counter> deadLetters = new EnumMap<>(Reason.class);
  private final Timer commit;
  private final Timer publish;
  private final MeterRegistry registry;
  private final Supplier<Map<TopicPartition, Long>> lag;
  private final Set<TopicPartition> lagGauges = new HashSet<>();
  private final String model;

  private volatile double loss = Double.NaN;
  private volatile double imagesPerSecond = Double.NaN;
  private volatile long step = -1;
  private volatile long version = 0;
  private volatile double knn = Double.NaN;
  private volatile double versionLoss = Double.NaN;
  private volatile double lastPublishSeconds = Double.NaN;
  private volatile int queueKeys;
  private volatile int queueCapacity;
  private volatile long queueAgeSteps = -1;
  private volatile long oldestKeyTimestampMs = -1;
  private volatile boolean ready;
  private volatile String state = "starting: restoring state and assigning the frames partitions";

  /**
   * @param lag where the per-partition consumer lag is read, on each scrape ({@link
   *     StreamTrainer#consumerLag()})
   */
  public TrainerMetrics(
      MeterRegistry registry, String model, Supplier<Map<TopicPartition, Long>> lag) {
    this.model = model;
    Tags tags = Tags.of("model", model);
    steps =
        Counter.builder("mocostream.trainer.steps")
            .description("Steps taken (trained or skipped)")
            .tags(tags)
            .register(registry);
    images =
        Counter.builder("mocostream.trainer.images")
            .description("Images trained")
            .tags(tags)
            .register(registry);
    rollbacks =
        Counter.builder("mocostream.trainer.rollbacks")
            .description("Failed transactions rolled back to the last commit")
            .tags(tags)
            .register(registry);
    skippedNonFinite = skipped(registry, tags, "non_finite");
    skippedTooFew = skipped(registry, tags, "too_few_frames");
    for (Reason r : Reason.values()) {
      deadLetters.put(
          r,
          Counter.builder("mocostream.trainer.dead.letters")
              .description("Frames sent to the dead-letter topic, by reason")
              .tags(tags.and("reason", r.code()))
              .register(registry));
    }
    commit =
        Timer.builder("mocostream.trainer.commit")
            .description("A whole commit: version, checkpoint, offsets and commitTransaction")
            .tags(tags)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(10))
            .maximumExpectedValue(Duration.ofMinutes(5))
            .register(registry);
    publish =
        Timer.builder("mocostream.trainer.publish")
            .description("Publishing a version: kNN on the probe set, weights, signed chunks")
            .tags(tags)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(10))
            .maximumExpectedValue(Duration.ofMinutes(5))
            .register(registry);
    gauge(
        registry,
        "mocostream.trainer.loss",
        null,
        "InfoNCE loss of the last trained step",
        () -> loss);
    gauge(
        registry,
        "mocostream.trainer.images.per.second",
        null,
        "Images trained per second since the last commit",
        () -> imagesPerSecond);
    gauge(
        registry,
        "mocostream.trainer.step",
        null,
        "Number of the last step in the step log",
        () -> (double) step);
    gauge(
        registry,
        "mocostream.trainer.version",
        null,
        "Last encoder version published (0 before the first)",
        () -> (double) version);
    gauge(
        registry,
        "mocostream.trainer.knn.top1",
        null,
        "kNN top-1 accuracy (0-1) on the probe set of the last published version",
        () -> knn);
    gauge(
        registry,
        "mocostream.trainer.version.loss",
        null,
        "Mean loss of the steps in the last published version",
        () -> versionLoss);
    gauge(
        registry,
        "mocostream.trainer.last.publish.timestamp",
        "seconds",
        "Unix time of the last published version",
        () -> lastPublishSeconds);
    gauge(
        registry,
        "mocostream.trainer.queue",
        "keys",
        "Filled slots of the negatives queue",
        () -> (double) queueKeys);
    gauge(
        registry,
        "mocostream.trainer.queue.capacity",
        "keys",
        "Slots of the negatives queue (K)",
        () -> (double) queueCapacity);
    gauge(
        registry,
        "mocostream.trainer.queue.age.steps",
        "steps",
        "Steps since the oldest key of the queue was enqueued",
        () -> queueAgeSteps < 0 ? Double.NaN : queueAgeSteps);
    gauge(
        registry,
        "mocostream.trainer.queue.age",
        "seconds",
        "Age of the oldest queued key's frame, by its record timestamp",
        () -> {
          long ts = oldestKeyTimestampMs;
          return ts <= 0 ? Double.NaN : Math.max(0, System.currentTimeMillis() - ts) / 1000.0;
        });
    this.registry = registry;
    this.lag = lag;
  }

  private static Counter skipped(MeterRegistry registry, Tags tags, String reason) {
    return Counter.builder("mocostream.trainer.steps.skipped")
        .description("Steps that trained nothing, by reason")
        .tags(tags.and("reason", reason))
        .register(registry);
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String unit,
      String description,
      Supplier<Number> value) {
    Gauge.builder(name, value)
        .baseUnit(unit)
        .description(description)
        .tag("model", model)
        .strongReference(true)
        .register(registry);
  }

  /**
   * One gauge per frames partition, registered (on the training thread) when its first measurement
   * appears and read live on each scrape; NaN while a partition has no measurement (after a
   * roll-back, before the next poll).
   */
  private void registerLagGauges() {
    for (TopicPartition tp : lag.get().keySet()) {
      if (lagGauges.add(tp)) {
        Gauge.builder(
                "mocostream.trainer.consumer.lag",
                () -> {
                  Long records = lag.get().get(tp);
                  return records == null ? Double.NaN : records;
                })
            .baseUnit("records")
            .description("Records behind the end of each frames partition")
            .tags(
                "model", model, "topic", tp.topic(), "partition", Integer.toString(tp.partition()))
            .strongReference(true)
            .register(registry);
      }
    }
  }

  /**
   * Ready once the trainer restored its state and assigned its consumer; not while rolling back.
   */
  public Health health() {
    return () -> ready ? Health.Status.ready(state) : Health.Status.notReady(state);
  }

  @Override
  public void onReady(long step, long version) {
    this.step = step;
    this.version = version;
    state = "training model " + model + " from step " + step;
    ready = true;
  }

  @Override
  public void onRecovering(String cause) {
    ready = false;
    rollbacks.increment();
    state = "rolling back to the last commit after a failed transaction: " + cause;
  }

  @Override
  public void onRecovered(long step, String cause) {
    this.step = step;
    state = "training model " + model + " again from step " + step;
    ready = true;
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
    this.step = step;
    steps.increment();
    this.images.increment(images);
    if (!Double.isNaN(loss)) {
      this.loss = loss;
    }
    this.imagesPerSecond = imagesPerSec;
    registerLagGauges();
  }

  @Override
  public void onDeadLetter(Reason reason) {
    deadLetters.get(reason).increment();
  }

  @Override
  public void onStepSkipped(boolean nonFinite) {
    (nonFinite ? skippedNonFinite : skippedTooFew).increment();
  }

  @Override
  public void onQueue(int size, int capacity, long oldestStep, long oldestTimestampMs) {
    queueKeys = size;
    queueCapacity = capacity;
    queueAgeSteps = oldestStep < 0 ? -1 : step - oldestStep;
    oldestKeyTimestampMs = oldestTimestampMs;
  }

  @Override
  public void onCommitTimings(long publishNanos, long commitNanos) {
    publish.record(publishNanos, TimeUnit.NANOSECONDS);
    commit.record(commitNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void onPublished(EncoderVersion v) {
    version = v.getVersion();
    if (v.getMetrics() != null) {
      knn = v.getMetrics().getKnnTop1() == null ? Double.NaN : v.getMetrics().getKnnTop1();
      versionLoss = v.getMetrics().getLoss() == null ? Double.NaN : v.getMetrics().getLoss();
    }
    lastPublishSeconds =
        v.getCreatedAt() == null
            ? System.currentTimeMillis() / 1000.0
            : v.getCreatedAt().toEpochMilli() / 1000.0;
  }
}
