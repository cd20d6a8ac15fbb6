package io.mocostream.trainer.stream;

import io.mocostream.encoder.format.Sha256;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.registry.client.ClientSettings;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.StepSegment;
import io.mocostream.schemas.TrainerCheckpoint;
import io.mocostream.schemas.TrainerStep;
import io.mocostream.trainer.moco.MocoEngine;
import io.mocostream.vision.model.ComputeThreads;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Rebuilds a published encoder version from the step log and the frames topic: a fresh engine from
 * the run's configuration (taken from its checkpoints), then every logged step with the same
 * records in the same order. On CPU with the same thread count the weights come out bit for bit the
 * same, which the SHA-256 shows.
 *
 * <p>Anyone may write to the topics it reads, so only the version's manifest is believed, and only
 * when it verifies under the trusted keys: its payload digest is what the rebuild is compared with,
 * its config fingerprint picks the checkpoint whose configuration is used (a checkpoint with any
 * other configuration is passed over), and a step log or frame that was tampered with can only make
 * the digests differ.
 */
public final class Replayer {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  /** The outcome: the rebuilt weights' digest against the published one. */
  public record Result(
      String model, long version, long steps, String replayedSha256, String publishedSha256) {
    public boolean match() {
      return replayedSha256.equals(publishedSha256);
    }

    /** The command's last line. */
    public String line() {
      return "replayed_sha256="
          + replayedSha256
          + " published_sha256="
          + publishedSha256
          + " match="
          + match();
    }
  }

  private Replayer() {}

  /**
   * @param topics the run's settings for the model name and topic names (other keys are taken from
   *     the run)
   * @param progress one line per N steps, or null
   */
  public static Result replay(
      String bootstrap,
      String registryUrl,
      TrainerConfig topics,
      long toVersion,
      TrustedKeys trust,
      PrintStream progress) {
    return replay(bootstrap, registryUrl, topics, toVersion, trust, progress, ClientSettings.NONE);
  }

  /**
   * The same on a secured cluster: {@code clients} carries the Kafka and registry client settings.
   */
  public static Result replay(
      String bootstrap,
      String registryUrl,
      TrainerConfig topics,
      long toVersion,
      TrustedKeys trust,
      PrintStream progress,
      ClientSettings clients) {
    String model = topics.modelName();
    try (KafkaConsumer<String, Object> meta =
        Checkpoints.avroReader(bootstrap, registryUrl, clients)) {
      EncoderVersion[] found = {null};
      List<String> refused = new ArrayList<>();
      Checkpoints.scan(
          meta,
          topics.versionsTopic(),
          TIMEOUT,
          r -> {
            if (r.value() instanceof EncoderVersion v
                && v.getModelName().equals(model)
                && v.getVersion() == toVersion) {
              TrustedKeys.Verdict verdict = trust.verify(v);
              if (verdict == TrustedKeys.Verdict.VALID) {
                found[0] = v;
              } else {
                refused.add(verdict + " at " + r.topic() + "-" + r.partition() + "@" + r.offset());
              }
            }
          });
      EncoderVersion version = found[0];
      if (version == null) {
        throw new IllegalArgumentException(
            "model "
                + model
                + " has no committed version "
                + toVersion
                + " that verifies under the trusted keys on "
                + topics.versionsTopic()
                + (refused.isEmpty()
                    ? ""
                    : " (refused "
                        + refused.size()
                        + ": "
                        + String.join(", ", refused.subList(0, Math.min(5, refused.size())))
                        + (refused.size() > 5 ? ", ..." : "")
                        + ")"));
      }
      String fingerprint = version.getConfigFingerprint().toString();
      TrainerCheckpoint checkpoint =
          Checkpoints.readManifests(meta, topics.stateTopic(), model, TIMEOUT).stream()
              .filter(c -> c.getEncoderVersion() == toVersion)
              .filter(c -> Sha256.hex(utf8(c.getConfigJson())).equals(fingerprint))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "no checkpoint of model "
                              + model
                              + " for version "
                              + toVersion
                              + " on "
                              + topics.stateTopic()
                              + " whose configuration matches the version's fingerprint "
                              + fingerprint
                              + ": its configuration is unknown"));
      Map<String, String> settings =
          new TreeMap<>(TrainerConfig.parseComputeJson(checkpoint.getConfigJson()));
      settings.put(TrainerConfig.MODEL_NAME_CONFIG, model);
      TrainerConfig run = TrainerConfig.of(settings);
      long lastStep = version.getLineage().getLastStep();
      List<TrainerStep> log = new ArrayList<>();
      Checkpoints.scan(
          meta,
          version.getLineage().getStepLogTopic(),
          TIMEOUT,
          r -> {
            if (r.value() instanceof TrainerStep s
                && s.getModelName().equals(model)
                && s.getStep() <= lastStep) {
              log.add(s);
            }
          });
      for (int i = 0; i < log.size(); i++) {
        if (log.get(i).getStep() != i + 1) {
          throw new IllegalStateException(
              "step log of model "
                  + model
                  + " on "
                  + version.getLineage().getStepLogTopic()
                  + " has step "
                  + log.get(i).getStep()
                  + " where step "
                  + (i + 1)
                  + " belongs");
        }
      }
      if (log.size() != lastStep) {
        throw new IllegalStateException(
            "step log of model "
                + model
                + " ends at step "
                + log.size()
                + ", version "
                + toVersion
                + " was taken at step "
                + lastStep);
      }
      String replayed = rebuild(bootstrap, registryUrl, run, log, progress, clients);
      return new Result(model, toVersion, lastStep, replayed, version.getPayloadSha256());
    }
  }

  private static byte[] utf8(CharSequence text) {
    return text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static String rebuild(
      String bootstrap,
      String registryUrl,
      TrainerConfig run,
      List<TrainerStep> log,
      PrintStream progress,
      ClientSettings clients) {
    try (MocoEngine engine = new MocoEngine(run.moco());
        BatchPreparer preparer =
            new BatchPreparer(clients.serde(Map.of("schema.registry.url", registryUrl)), run);
        RangeReader frames = new RangeReader(bootstrap, clients)) {
      DrawnFrames drawnFrames = null; // only for runs with a replay buffer
      try {
        for (TrainerStep s : log) {
          // The run's thread count for this step (results differ in the last bits between counts);
          // logs written
          // before steps recorded it ran with the checkpoint's compute.threads throughout.
          ComputeThreads.set(
              s.getComputeThreads() != null ? s.getComputeThreads() : run.computeThreads());
          List<BatchPreparer.Checked> checked = new ArrayList<>();
          for (StepSegment seg : s.getSegments()) {
            for (ConsumerRecord<byte[], byte[]> r :
                frames.read(
                    new TopicPartition(seg.getTopic(), seg.getPartition()),
                    seg.getFromOffset(),
                    seg.getToOffset())) {
              checked.add(preparer.check(r));
            }
          }
          // With a replay buffer the step trained on drawn frames (logged); the consumed ones only
          // entered the buffer.
          PreparedBatch batch = s.getDrawn() == null ? preparer.prepare(checked) : null;
          ReplayStage.Drawn drawn = null;
          int rejected;
          if (batch == null) {
            rejected = (int) checked.stream().filter(c -> !c.usable()).count();
            if (drawnFrames == null) {
              drawnFrames = new DrawnFrames(bootstrap, preparer, run, clients);
            }
            drawnFrames.remember(checked);
            drawn = drawnFrames.views(s);
          } else {
            rejected = batch.rejected().size();
          }
          int n = batch != null ? batch.n() : drawn.n();
          if (n != s.getBatchSize() || rejected != s.getRejected()) {
            throw new IllegalStateException(
                "step "
                    + s.getStep()
                    + ": the log says "
                    + s.getBatchSize()
                    + " frames and "
                    + s.getRejected()
                    + " rejected, the topic now gives "
                    + n
                    + " and "
                    + rejected
                    + " (records deleted by retention?)");
          }
          boolean skipped = true;
          if (n >= 2) {
            skipped =
                !(batch != null
                        ? engine.step(
                            batch.queryViews(), batch.keyViews(), batch.n(), batch.entries())
                        : engine.step(
                            drawn.queryViews(), drawn.keyViews(), drawn.n(), drawn.entries()))
                    .finite();
          }
          if (skipped != s.getSkipped()) {
            throw new IllegalStateException(
                "step "
                    + s.getStep()
                    + " was "
                    + (s.getSkipped() ? "" : "not ")
                    + "skipped in the run but "
                    + (skipped ? "" : "not ")
                    + "in the replay");
          }
          if (progress != null && (s.getStep() % 50 == 0 || s.getStep() == log.size())) {
            progress.println("replayed step " + s.getStep() + "/" + log.size());
          }
        }
      } finally {
        if (drawnFrames != null) {
          drawnFrames.close();
        }
      }
      return Sha256.hex(engine.saveEncoderWeights());
    }
  }

  /**
   * The frames a replay-buffer step drew, by position: from the records replay already consumed
   * (every drawn frame was consumed at that step or before), else read from the topic (a bounded
   * cache of the latest frames).
   */
  private static final class DrawnFrames implements AutoCloseable {
    private static final int CACHED = 100_000;
    private final BatchPreparer preparer;
    private final RangeReader reader;
    private final io.mocostream.vision.augment.BatchAugmenter augmenter;
    private final long seed;
    private final Map<ReplayStage.TopicPosition, ReplayStage.Buffered> cache =
        new java.util.LinkedHashMap<>(1024, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(
              Map.Entry<ReplayStage.TopicPosition, ReplayStage.Buffered> eldest) {
            return size() > CACHED;
          }
        };

    DrawnFrames(
        String bootstrap, BatchPreparer preparer, TrainerConfig run, ClientSettings clients) {
      this.preparer = preparer;
      this.reader = new RangeReader(bootstrap, clients);
      this.augmenter =
          new io.mocostream.vision.augment.BatchAugmenter(
              new io.mocostream.vision.augment.Augmenter(run.augment()), run.prepareThreads());
      this.seed = run.moco().seed();
    }

    void remember(List<BatchPreparer.Checked> checked) {
      for (BatchPreparer.Checked c : checked) {
        if (c.usable()) {
          cache.put(position(c.record()), buffered(c));
        }
      }
    }

    ReplayStage.Drawn views(TrainerStep s) {
      List<ReplayStage.Buffered> drawn = new ArrayList<>();
      for (StepSegment seg : s.getDrawn()) {
        for (long off = seg.getFromOffset(); off < seg.getToOffset(); off++) {
          var at = new ReplayStage.TopicPosition(seg.getTopic(), seg.getPartition(), off);
          ReplayStage.Buffered b = cache.get(at);
          if (b == null) {
            var records = reader.read(at.topicPartition(), off, off + 1);
            BatchPreparer.Checked c = records.isEmpty() ? null : preparer.check(records.get(0));
            if (c == null || !c.usable()) {
              throw new IllegalStateException(
                  "step "
                      + s.getStep()
                      + " drew frame "
                      + at
                      + ", which "
                      + (c == null ? "is gone from the topic (retention?)" : "no longer decodes"));
            }
            b = buffered(c);
            cache.put(at, b);
          }
          drawn.add(b);
        }
      }
      return ReplayStage.views(drawn, seed, s.getStep(), augmenter);
    }

    private static ReplayStage.TopicPosition position(ConsumerRecord<byte[], byte[]> r) {
      return new ReplayStage.TopicPosition(r.topic(), r.partition(), r.offset());
    }

    private static ReplayStage.Buffered buffered(BatchPreparer.Checked c) {
      ConsumerRecord<byte[], byte[]> r = c.record();
      return new ReplayStage.Buffered(
          r.topic(),
          new io.mocostream.vision.augment.BatchAugmenter.Item(
              c.image(), r.partition(), r.offset()),
          new io.mocostream.trainer.moco.QueueEntry(
              c.frame().getSourceId(),
              r.partition(),
              r.offset(),
              0,
              c.frame().getCaptureTime().toEpochMilli()));
    }

    @Override
    public void close() {
      augmenter.close();
      reader.close();
    }
  }

  /** Reads offset ranges of frame partitions, sequentially where the ranges follow each other. */
  static final class RangeReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, ArrayDeque<ConsumerRecord<byte[], byte[]>>> buffered =
        new HashMap<>();

    RangeReader(String bootstrap) {
      this(bootstrap, ClientSettings.NONE);
    }

    RangeReader(String bootstrap, ClientSettings clients) {
      consumer =
          new KafkaConsumer<>(
              clients.consumer(
                  Map.of(
                      ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                      bootstrap,
                      ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                      "read_committed",
                      ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                      false,
                      ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                      16 << 20)),
              new ByteArrayDeserializer(),
              new ByteArrayDeserializer());
    }

    /** The committed records with offsets in [from, to), in offset order. */
    List<ConsumerRecord<byte[], byte[]>> read(TopicPartition tp, long from, long to) {
      if (!consumer.assignment().contains(tp)) {
        List<TopicPartition> assignment = new ArrayList<>(consumer.assignment());
        assignment.add(tp);
        consumer.assign(assignment);
        consumer.seek(tp, from);
      }
      ArrayDeque<ConsumerRecord<byte[], byte[]>> buf =
          buffered.computeIfAbsent(tp, t -> new ArrayDeque<>());
      while (!buf.isEmpty() && buf.peekFirst().offset() < from) {
        buf.pollFirst();
      }
      if (!buf.isEmpty() && buf.peekFirst().offset() > from) {
        buf.clear(); // a range before what was read last (the replay buffer reads frames back out
        // of order)
      }
      if (buf.isEmpty() && consumer.position(tp) != from) {
        consumer.seek(tp, from); // not where the last range ended: jump
      }
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (true) {
        while (!buf.isEmpty() && buf.peekFirst().offset() < to) {
          out.add(buf.pollFirst());
        }
        if (!buf.isEmpty() || consumer.position(tp) >= to) {
          return out;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "could not read " + tp + " [" + from + ", " + to + ") within " + TIMEOUT);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          buffered
              .computeIfAbsent(
                  new TopicPartition(r.topic(), r.partition()), t -> new ArrayDeque<>())
              .add(r);
        }
      }
    }

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(5));
    }
  }
}
