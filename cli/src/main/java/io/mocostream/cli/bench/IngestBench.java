package io.mocostream.cli.bench;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * {@code bench ingest}: can ingest keep up with the producer? The same frames (a) published by our producer
 * (validation, Avro and registry, idempotent acks=all) and (b) taken through ingest (read, decode, resize, hash,
 * dedup store, re-encode, write, exactly_once_v2 commits) from the topic (a) filled, in the same process against the
 * same broker.
 *
 * <p>(a) is timed from the first send to the last acknowledgement ({@link ProduceSummary#ackRate()}); (b) from the
 * first record ingest reads until its consumer group's committed offsets reach the end of the topic, so the time of
 * the last transaction's commit is in it and the start-up (group join, task assignment) is not. Frames: a pool of
 * distinct seeded images (further apart than the dedup window, so none is dropped and every one is written),
 * {@value #SOURCES} sources on {@value #PARTITIONS} partitions; ingest runs one stream thread per core. The two
 * alternate for {@code rounds} rounds and the best of each is compared. Last line:
 * {@code ingest_frames_s=<x> producer_frames_s=<y> ingest_vs_producer=<x/y>}.
 */
public final class IngestBench {
  /** What to publish: 28×28 grey (Fashion-MNIST's shape), or 640×480 JPEG camera frames. */
  public enum Frames {
    GREY28, JPEG640
  }

  static final int SOURCES = 4;
  static final int PARTITIONS = 4;
  static final int POOL = 256;

  private IngestBench() {}

  public static int defaultCount(Frames frames) {
    return frames == Frames.GREY28 ? 100_000 : 1_500;
  }

  public static String run(String bootstrap, String registryUrl, Frames frames, int count, int rounds,
      PrintStream out) throws Exception {
    if (count < 1 || rounds < 1) {
      throw new IllegalArgumentException("--count and --rounds must be positive, got " + count + ", " + rounds);
    }
    List<SourceItem> pool = pool(frames);
    long poolBytes = pool.stream().mapToLong(i -> i.data().length).sum();
    int threads = Math.max(1, Math.min(PARTITIONS, Runtime.getRuntime().availableProcessors()));
    out.printf(Locale.ROOT, "bench ingest: %d %s frames (%d distinct, mean %d bytes), %d sources on %d partitions,"
            + " ingest with %d stream threads, %d rounds, alternating%n", count, frames, pool.size(),
        poolBytes / pool.size(), SOURCES, PARTITIONS, threads, rounds);
    double bestIngest = 0;
    double bestProducer = 0;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      for (int round = 1; round <= rounds; round++) {
        String run = "bench-ingest-" + UUID.randomUUID().toString().substring(0, 8);
        admin.createTopics(List.of(new NewTopic(run + ".raw", Optional.of(PARTITIONS), Optional.empty())))
            .all().get(30, TimeUnit.SECONDS);
        ProduceSummary produced = ProduceCommand.run(ProduceOptions.of(bootstrap, registryUrl, "bench")
                .withTopic(run + ".raw").withMax(count).withProgress(ProduceOptions.ProgressMode.QUIET),
            new PoolSource(pool), new PrintStream(OutputStream.nullOutputStream()));
        if (produced.published() != count) {
          throw new IllegalStateException("the producer published " + produced.published() + " of " + count
              + " frames; refused " + produced.refused());
        }
        out.printf(Locale.ROOT, "round %d: producer %.1f frames/s (%d frames, %.2f s)%n", round, produced.ackRate(),
            produced.published(), produced.ackSpanSeconds());
        double ingest = runIngest(admin, bootstrap, registryUrl, run, count, threads, out, round);
        bestProducer = Math.max(bestProducer, produced.ackRate());
        bestIngest = Math.max(bestIngest, ingest);
        deleteTopics(admin, run);
      }
    }
    String last = String.format(Locale.ROOT, "ingest_frames_s=%.1f producer_frames_s=%.1f ingest_vs_producer=%.3f",
        bestIngest, bestProducer, bestIngest / bestProducer);
    out.println(last);
    out.flush();
    return last;
  }

  private static double runIngest(Admin admin, String bootstrap, String registryUrl, String run, int count,
      int threads, PrintStream out, int round) throws Exception {
    Path state = Files.createTempDirectory("mocostream-bench-ingest");
    IngestOptions o = IngestOptions.defaults(bootstrap, registryUrl)
        .withTopics(run + ".raw", run + ".train", run + ".dlq")
        .withApplication(run, state, -1, threads);
    try (IngestCommand.Running ingest = IngestCommand.start(o, new PrintStream(OutputStream.nullOutputStream()))) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
      while (ingest.counters().read() == 0) {
        check(ingest, deadline, count);
        Thread.sleep(1);
      }
      long start = System.nanoTime();
      // Done when the group's committed input offsets reach the end: every frame processed AND committed.
      while (ingest.counters().done() < count || committed(admin, run) < count) {
        check(ingest, deadline, count);
        Thread.sleep(ingest.counters().done() < count ? 20 : 5);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      if (ingest.counters().trained() < count) { // every pool frame is valid and distinct within the window
        throw new IllegalStateException("ingest trained " + ingest.counters().trained() + " of " + count
            + " frames: " + ingest.counters());
      }
      double rate = count / seconds;
      out.printf(Locale.ROOT, "round %d: ingest %.1f frames/s (%d frames, %.2f s; %s)%n", round, rate, count, seconds,
          ingest.counters());
      return rate;
    } finally {
      deleteQuietly(state);
    }
  }

  private static void check(IngestCommand.Running ingest, long deadline, int count) {
    if (ingest.failure().isPresent()) {
      throw new IllegalStateException("ingest failed: " + ingest.failure().get(), ingest.failure().get());
    }
    if (System.nanoTime() > deadline) {
      throw new IllegalStateException("ingest did not finish " + count + " frames in 20 minutes: " + ingest.counters());
    }
  }

  private static long committed(Admin admin, String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
    return offsets.values().stream().filter(java.util.Objects::nonNull).mapToLong(OffsetAndMetadata::offset).sum();
  }

  /**
   * Distinct frames: random 28×28 grey (as far apart as images get), or synthetic 640×480 camera scenes as JPEG at
   * quality 0.85 (about the size a camera sends).
   */
  static List<SourceItem> pool(Frames frames) {
    List<SourceItem> pool = new ArrayList<>();
    SplittableRandom rnd = new SplittableRandom(17);
    int n = frames == Frames.GREY28 ? POOL : 64;
    for (int i = 0; i < n; i++) {
      String source = "bench-" + (i % SOURCES);
      if (frames == Frames.GREY28) {
        byte[] px = new byte[28 * 28];
        for (int k = 0; k < px.length; k++) {
          px[k] = (byte) rnd.nextInt(256);
        }
        pool.add(new SourceItem(source, "bench", ContentType.RAW_GREY, px, 28, 28, null, 0L, Map.of()));
      } else {
        byte[] jpeg = SyntheticScenes.jpeg(SyntheticScenes.scene(640, 480, i), 0.85f);
        pool.add(new SourceItem(source, "bench", ContentType.JPEG, jpeg, null, null, null, 0L, Map.of()));
      }
    }
    return pool;
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
      return new SourceItem(i.sourceId(), i.origin(), i.contentType(), i.data(), i.width(), i.height(), i.label(),
          System.currentTimeMillis(), i.attributes());
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
      admin.deleteTopics(List.of(run + ".raw", run + ".train", run + ".dlq")).all().get(30, TimeUnit.SECONDS);
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
