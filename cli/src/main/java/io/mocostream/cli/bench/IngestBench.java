package io.mocostream.cli.bench;

import com.sun.management.OperatingSystemMXBean;
import io.mocostream.ingest.IngestCommand;
import io.mocostream.ingest.IngestOptions;
import io.mocostream.ingest.SyntheticScenes;
import io.mocostream.producer.ProduceCommand;
import io.mocostream.producer.ProduceOptions;
import io.mocostream.producer.ProduceSummary;
import io.mocostream.producer.source.FrameSource;
import io.mocostream.producer.source.SourceEntry;
import io.mocostream.producer.source.SourceItem;
import io.mocostream.schemas.ContentType;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;

/**
 * {@code bench ingest}: can ingest keep up with the producer? The same frames (a) published by our
 * producer (validation, Avro and registry, idempotent acks=all) and (b) taken through ingest (read,
 * decode, resize, hash, dedup store, re-encode, write, exactly_once_v2 commits) from the topic (a)
 * filled, in the same process against the same broker.
 *
 * <p>Per round, ingest starts first on the empty topic and settles (every stream thread owns
 * running tasks, their transactions and stores initialised), then pauses; (a) fills the topic,
 * timed from the first send to the last acknowledgement ({@link ProduceSummary#ackRate()}); then
 * ingest resumes and (b) is timed from the resume until its consumer group's committed offsets
 * reach the end of the topic, so the last transaction's commit is in it and the start-up (group
 * join, task assignment) is in neither. While paused, Kafka Streams still buffers up to {@code
 * buffered.records.per.partition} records per partition: a fetch-ahead of at most 4,000 frames,
 * during (a). Frames: a pool of distinct seeded images (further apart than the dedup window, so
 * none is dropped and every one is written), {@value #SOURCES} sources, one on each of {@value
 * #PARTITIONS} partitions ({@link #sourceIds}); ingest runs one stream thread per core. The two
 * alternate for {@code rounds} rounds and the best of each is compared. Last line: {@code
 * ingest_frames_s=<x> producer_frames_s=<y> ingest_vs_producer=<x/y>}.
 */
public final class IngestBench {
  /** What to publish: 28×28 grey (Fashion-MNIST's shape), or 640×480 JPEG camera frames. */
  public enum Frames {
    GREY28,
    JPEG640
  }

  static final int PARTITIONS = 4;

  /** One source per partition ({@link #sourceIds}). */
  static final int SOURCES = PARTITIONS;

  static final int POOL = 256;

  private IngestBench() {}

  public static int defaultCount(Frames frames) {
    return frames == Frames.GREY28 ? 100_000 : 1_500;
  }

  public static String run(
      String bootstrap, String registryUrl, Frames frames, int count, int rounds, PrintStream out)
      throws Exception {
    if (count < 1 || rounds < 1) {
      throw new IllegalArgumentException(
          "--count and --rounds must be positive, got " + count + ", " + rounds);
    }
    List<SourceItem> pool = pool(frames);
    long poolBytes = pool.stream().mapToLong(i -> i.data().length).sum();
    int threads = Math.max(1, Math.min(PARTITIONS, Runtime.getRuntime().availableProcessors()));
    out.printf(
        Locale.ROOT,
        "bench ingest: %d %s frames (%d distinct, mean %d bytes), %d sources on %d partitions,"
            + " ingest with %d stream threads, %d rounds, alternating%n",
        count,
        frames,
        pool.size(),
        poolBytes / pool.size(),
        SOURCES,
        PARTITIONS,
        threads,
        rounds);
    double bestIngest = 0;
    // CPU seconds of the whole process (broker and registry included) per timed phase, printed per
    // round: on a shared
    // machine the wall-clock rates move with the load, the CPU a frame costs much less.
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double bestProducer = 0;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      for (int round = 1; round <= rounds; round++) {
        String run = "bench-ingest-" + UUID.randomUUID().toString().substring(0, 8);
        admin
            .createTopics(
                List.of(new NewTopic(run + ".raw", Optional.of(PARTITIONS), Optional.empty())))
            .all()
            .get(30, TimeUnit.SECONDS);
        awaitTopic(admin, run + ".raw");
        Path state = Files.createTempDirectory("mocostream-bench-ingest");
        IngestOptions o =
            IngestOptions.defaults(bootstrap, registryUrl)
                .withTopics(run + ".raw", run + ".train", run + ".dlq")
                .withApplication(run, state, -1, threads);
        try (IngestCommand.Running ingest =
            IngestCommand.start(o, new PrintStream(OutputStream.nullOutputStream()))) {
          // Ingest starts on the empty topic and settles (every stream thread owns running tasks,
          // their transactions
          // and stores initialised), then pauses while the producer fills the topic: the clock
          // below times
          // processing, not start-up, and the producer runs alone.
          awaitSettled(ingest, threads);
          ingest.streams().pause();
          long cpu0 = os.getProcessCpuTime();
          ProduceSummary produced =
              ProduceCommand.run(
                  ProduceOptions.of(bootstrap, registryUrl, "bench")
                      .withTopic(run + ".raw")
                      .withMax(count)
                      .withProgress(ProduceOptions.ProgressMode.QUIET),
                  new PoolSource(pool),
                  new PrintStream(OutputStream.nullOutputStream()));
          if (produced.published() != count) {
            throw new IllegalStateException(
                "the producer published "
                    + produced.published()
                    + " of "
                    + count
                    + " frames; refused "
                    + produced.refused());
          }
          long cpu1 = os.getProcessCpuTime();
          out.printf(
              Locale.ROOT,
              "round %d: producer %.1f frames/s (%d frames, %.2f s, cpu %.2f s)%n",
              round,
              produced.ackRate(),
              produced.published(),
              produced.ackSpanSeconds(),
              (cpu1 - cpu0) / 1e9);
          double ingestRate = timeIngest(ingest, admin, run, count, out, round, os);
          bestProducer = Math.max(bestProducer, produced.ackRate());
          bestIngest = Math.max(bestIngest, ingestRate);
        } finally {
          deleteQuietly(state);
        }
        deleteTopics(admin, run);
      }
    }
    String last =
        String.format(
            Locale.ROOT,
            "ingest_frames_s=%.1f producer_frames_s=%.1f ingest_vs_producer=%.3f",
            bestIngest,
            bestProducer,
            bestIngest / bestProducer);
    out.println(last);
    out.flush();
    return last;
  }

  /**
   * Waits until the broker's metadata shows a topic just created (ingest refuses a missing input
   * topic).
   */
  private static void awaitTopic(Admin admin, String topic) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }

  /**
   * Waits until the application runs with active tasks on each of its {@code threads} stream
   * threads.
   */
  private static void awaitSettled(IngestCommand.Running ingest, int threads)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (ingest.streams().state() != KafkaStreams.State.RUNNING
        || ingest.streams().metadataForLocalThreads().stream()
                .filter(t -> !t.activeTasks().isEmpty())
                .count()
            < threads) {
      if (ingest.failure().isPresent() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "ingest did not settle into "
                + threads
                + " stream threads with tasks: "
                + ingest.streams().state()
                + (ingest.failure().isPresent() ? ", " + ingest.failure().get() : ""));
      }
      Thread.sleep(20);
    }
  }

  /**
   * Resumes the paused ingest and times it until its group's committed input offsets reach the end
   * of the topic: every frame processed AND committed, the last transaction included.
   */
  private static double timeIngest(
      IngestCommand.Running ingest,
      Admin admin,
      String run,
      int count,
      PrintStream out,
      int round,
      OperatingSystemMXBean os)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
    long cpu0 = os.getProcessCpuTime();
    long start = System.nanoTime();
    ingest.streams().resume();
    while (ingest.counters().done() < count || committed(admin, run) < count) {
      check(ingest, deadline, count);
      Thread.sleep(ingest.counters().done() < count ? 20 : 5);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
    if (ingest.counters().trained()
        < count) { // every pool frame is valid and distinct within the window
      throw new IllegalStateException(
          "ingest trained "
              + ingest.counters().trained()
              + " of "
              + count
              + " frames: "
              + ingest.counters());
    }
    double rate = count / seconds;
    out.printf(
        Locale.ROOT,
        "round %d: ingest %.1f frames/s (%d frames, %.2f s, cpu %.2f s; %s)%n",
        round,
        rate,
        count,
        seconds,
        cpu,
        ingest.counters());
    return rate;
  }

  private static void check(IngestCommand.Running ingest, long deadline, int count) {
    if (ingest.failure().isPresent()) {
      throw new IllegalStateException(
          "ingest failed: " + ingest.failure().get(), ingest.failure().get());
    }
    if (System.nanoTime() > deadline) {
      throw new IllegalStateException(
          "ingest did not finish " + count + " frames in 20 minutes: " + ingest.counters());
    }
  }

  private static long committed(Admin admin, String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets =
        admin
            .listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    return offsets.values().stream()
        .filter(java.util.Objects::nonNull)
        .mapToLong(OffsetAndMetadata::offset)
        .sum();
  }

  /**
   * Distinct frames: random 28×28 grey (as far apart as images get), or synthetic 640×480 camera
   * scenes as JPEG at quality 0.85 (about the size a camera sends).
   */
  static List<SourceItem> pool(Frames frames) {
    List<SourceItem> pool = new ArrayList<>();
    List<String> sources = sourceIds();
    SplittableRandom rnd = new SplittableRandom(17);
    int n = frames == Frames.GREY28 ? POOL : 64;
    for (int i = 0; i < n; i++) {
      String source = sources.get(i % SOURCES);
      if (frames == Frames.GREY28) {
        byte[] px = new byte[28 * 28];
        for (int k = 0; k < px.length; k++) {
          px[k] = (byte) rnd.nextInt(256);
        }
        pool.add(
            new SourceItem(source, "bench", ContentType.RAW_GREY, px, 28, 28, null, 0L, Map.of()));
      } else {
        byte[] jpeg = SyntheticScenes.jpeg(SyntheticScenes.scene(640, 480, i), 0.85f);
        pool.add(
            new SourceItem(
                source, "bench", ContentType.JPEG, jpeg, null, null, null, 0L, Map.of()));
      }
    }
    return pool;
  }

  /**
   * One source id per partition: for partition p, the first {@code bench-<n>} that Kafka's default
   * partitioner (murmur2 of the key's bytes) sends to p. Plain {@code bench-0..3} put two sources
   * on partition 1 and none on 2: a stream thread holding partitions 1 and 3 had three quarters of
   * the frames, the other a quarter (seen in a profile).
   */
  static List<String> sourceIds() {
    String[] ids = new String[PARTITIONS];
    int found = 0;
    for (int n = 0; found < PARTITIONS; n++) {
      String id = "bench-" + n;
      int p = Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
      if (ids[p] == null) {
        ids[p] = id;
        found++;
      }
    }
    return List.of(ids);
  }

  /** The pool, round and round. */
  static final class PoolSource implements FrameSource {
    private final List<SourceItem> pool;
    private long index;

    PoolSource(List<SourceItem> pool) {
      this.pool = pool;
    }

    @Override
    public SourceEntry next() {
      SourceItem i = pool.get((int) (index++ % pool.size()));
      return new SourceItem(
          i.sourceId(),
          i.origin(),
          i.contentType(),
          i.data(),
          i.width(),
          i.height(),
          i.label(),
          System.currentTimeMillis(),
          i.attributes());
    }

    @Override
    public void rewind() {
      index = 0;
    }

    @Override
    public String describe() {
      return "bench pool of " + pool.size() + " frames";
    }

    @Override
    public void close() {}
  }

  private static void deleteTopics(Admin admin, String run) {
    try {
      admin
          .deleteTopics(List.of(run + ".raw", run + ".train", run + ".dlq"))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Only disk space is at stake.
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      // a temp directory left behind
    }
  }
}
