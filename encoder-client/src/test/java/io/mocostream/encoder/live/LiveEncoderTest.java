package io.mocostream.encoder.live;

import static io.mocostream.encoder.live.TinyEncoders.ARCH;
import static io.mocostream.encoder.live.TinyEncoders.draft;
import static io.mocostream.encoder.live.TinyEncoders.image;
import static io.mocostream.encoder.live.TinyEncoders.reference;
import static io.mocostream.encoder.live.TinyEncoders.weights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.EncoderPublisher.Prepared;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The live encoder against a real broker and registry, with real (tiny) DJL encoders. */
@ExtendWith(KafkaClusterExtension.class)
class LiveEncoderTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final int CHUNK = 64 * 1024; // a tiny encoder's ~180 KB of weights as 3 chunks
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String MODEL = "tiny";
  private static final float EPS = 1e-6f;

  private final ModelSigner signer = ModelSigning.generate();

  private static String topic(KafkaCluster cluster, String name) {
    String topic = "live." + name + "." + IDS.incrementAndGet();
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      assertTrue(ModelTopics.ensure(admin, topic));
    }
    return topic;
  }

  private static KafkaProducer<String, Object> producer(KafkaCluster cluster) {
    return EncoderPublisher.createProducer(
        cluster.bootstrapServers(), cluster.registryUrl(), "live-test-" + IDS.incrementAndGet());
  }

  private LiveEncoder.Builder live(KafkaCluster cluster, String topic, Recorder rec) {
    return LiveEncoder.builder(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
        .topic(topic)
        .trustedKeys(signer.trustedKeys())
        .listener(rec);
  }

  /** Collects a live encoder's verdicts. */
  static final class Recorder implements SwapListener {
    final BlockingQueue<CurrentVersion> accepted = new LinkedBlockingQueue<>();
    final BlockingQueue<RefusedVersion> refused = new LinkedBlockingQueue<>();
    final List<String> order = new ArrayList<>();
    final List<Long> swapMillis = new ArrayList<>();

    @Override
    public synchronized void onAccepted(CurrentVersion v, long millis) {
      order.add("accepted " + v.version());
      swapMillis.add(millis);
      accepted.add(v);
    }

    @Override
    public synchronized void onRefused(RefusedVersion r) {
      order.add("refused " + r.version() + " " + r.reason());
      refused.add(r);
    }

    synchronized List<String> order() {
      return List.copyOf(order);
    }

    CurrentVersion nextAccepted() throws InterruptedException {
      CurrentVersion v = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(v, "no version accepted within " + WAIT);
      return v;
    }

    RefusedVersion nextRefused() throws InterruptedException {
      RefusedVersion r = refused.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(r, "no version refused within " + WAIT);
      return r;
    }
  }

  private EncoderPublisher publisher(String topic) {
    return new EncoderPublisher(topic, signer, CHUNK);
  }

  private static void assertServes(LiveEncoder live, long version, byte[] weights) {
    assertEquals(version, live.current().orElseThrow().version());
    DecodedImage img = image(7);
    Embedding e = live.embed(img);
    assertEquals(version, e.version());
    assertArrayEquals(reference(weights, img), e.vector(), EPS, "vector of version " + version);
  }

  private static void sendInTransaction(
      KafkaProducer<String, Object> producer,
      String topic,
      List<EncoderChunk> chunks,
      EncoderVersion manifest) {
    producer.beginTransaction();
    for (EncoderChunk c : chunks) {
      producer.send(new ProducerRecord<>(topic, MODEL, c));
    }
    producer.send(new ProducerRecord<>(topic, MODEL, manifest));
    producer.commitTransaction();
  }

  @Test
  void servesEachVerifiedVersionAndNamesItInEveryEmbedding(KafkaCluster cluster) throws Exception {
    String topic = topic(cluster, "follow");
    Recorder rec = new Recorder();
    byte[] w1 = weights(ARCH, 1);
    byte[] w2 = weights(ARCH, 2);
    try (LiveEncoder live =
            live(cluster, topic, rec).decodeLimits(new FrameLimits(4000, 10_000)).build().start();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      assertFalse(live.awaitReady(Duration.ofMillis(300)));
      assertTrue(live.current().isEmpty());
      assertThrows(NotReadyException.class, () -> live.embed(image(1)));

      publisher(topic).publishInOwnTransaction(producer, draft(MODEL, 1, 0.61), w1);
      assertTrue(live.awaitReady(WAIT));
      CurrentVersion v1 = live.current().orElseThrow();
      assertEquals(1, v1.version());
      assertEquals(100, v1.step());
      assertEquals(ARCH, v1.architecture());
      assertEquals(0.61, v1.knnTop1().getAsDouble());
      assertEquals(Sha256.hex(w1), v1.manifest().getPayloadSha256());
      assertEquals(ARCH.featureDim(), v1.featureDim());
      assertEquals(draft(MODEL, 1, 0.61).getLineage(), v1.lineage());
      assertServes(live, 1, w1);

      Embedding e = live.embed(image(3));
      assertEquals(MODEL, e.model());
      assertEquals(32, e.featureDim());
      double norm = 0;
      for (float x : e.vector()) {
        norm += x * x;
      }
      assertEquals(1.0, norm, 1e-5, "L2-normalised");

      // Encoded bytes: decoded within the limits, the same vector as the decoded image.
      DecodedImage img = image(5);
      BufferedImage grey =
          new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_BYTE_GRAY);
      grey.getRaster().setDataElements(0, 0, img.width(), img.height(), img.pixels());
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(grey, "png", png);
      assertArrayEquals(live.embed(img).vector(), live.embed(png.toByteArray()).vector(), 0f);
      FrameRejectedException notImage =
          assertThrows(
              FrameRejectedException.class, () -> live.embed(new byte[] {1, 2, 3, 4}, "request 9"));
      assertEquals(io.mocostream.frames.Reason.UNSUPPORTED_TYPE, notImage.reason());
      assertTrue(notImage.getMessage().contains("request 9"), notImage.getMessage());
      byte[] big =
          java.util.Arrays.copyOf(
              png.toByteArray(), 5000); // over the 4000-byte limit: refused before decoding
      assertEquals(
          io.mocostream.frames.Reason.TOO_MANY_BYTES,
          assertThrows(FrameRejectedException.class, () -> live.embed(big)).reason());

      // Batches: one version for all, the same vectors as one at a time.
      List<Embedding> batch = live.embedAll(List.of(image(7), image(8)));
      assertArrayEquals(reference(w1, image(8)), batch.get(1).vector(), EPS);
      float[] pre = new float[2 * ARCH.imageFloats()];
      new io.mocostream.vision.augment.Augmenter(
              io.mocostream.vision.augment.AugmentConfig.mocoV2(16, 1))
          .center(image(7), pre, 0);
      new io.mocostream.vision.augment.Augmenter(
              io.mocostream.vision.augment.AugmentConfig.mocoV2(16, 1))
          .center(image(8), pre, ARCH.imageFloats());
      List<Embedding> fromFloats = live.embed(pre, 2);
      assertArrayEquals(batch.get(0).vector(), fromFloats.get(0).vector(), EPS);
      assertArrayEquals(batch.get(1).vector(), fromFloats.get(1).vector(), EPS);
      IllegalArgumentException wrongGeometry =
          assertThrows(IllegalArgumentException.class, () -> live.embed(new float[3 * 16 * 16], 1));
      assertTrue(wrongGeometry.getMessage().contains("1×16×16"), wrongGeometry.getMessage());

      publisher(topic).publishInOwnTransaction(producer, draft(MODEL, 2, 0.62), w2);
      assertEquals(1, rec.nextAccepted().version());
      assertEquals(2, rec.nextAccepted().version());
      assertServes(live, 2, w2);
      assertFalse(java.util.Arrays.equals(reference(w1, image(7)), reference(w2, image(7))));
      assertEquals(2, live.acceptedCount());
      assertEquals(1, live.swapCount());
      assertEquals(1, live.retiredVersionsClosed(), "version 1 closed once no request used it");
      assertEquals(0, live.refusedCount());
      assertTrue(live.lastSwapMillis() >= 0 && live.maxSwapMillis() >= live.lastSwapMillis());
    }
  }

  @Test
  void refusedVersionsAreCountedAndThePreviousVersionKeepsServing(KafkaCluster cluster)
      throws Exception {
    String topic = topic(cluster, "refusals");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = publisher(topic);
    byte[] w1 = weights(ARCH, 1);
    try (LiveEncoder live = live(cluster, topic, rec).build().start();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      publisher.publishInOwnTransaction(producer, draft(MODEL, 1, 0.6), w1);
      assertEquals(1, rec.nextAccepted().version());

      // v2: one flipped byte in a chunk, manifest intact.
      Prepared p2 = publisher.prepare(draft(MODEL, 2, 0.6), weights(ARCH, 2));
      List<EncoderChunk> tampered = new ArrayList<>();
      for (EncoderChunk c : p2.chunks()) {
        byte[] data = new byte[c.getData().remaining()];
        c.getData().duplicate().get(data);
        if (c.getIndex() == 1) {
          data[100] ^= 0x10;
        }
        tampered.add(
            new EncoderChunk(
                c.getModelName(),
                c.getVersion(),
                c.getIndex(),
                c.getCount(),
                ByteBuffer.wrap(data)));
      }
      sendInTransaction(producer, topic, tampered, p2.manifest());
      RefusedVersion r = rec.nextRefused();
      assertEquals(2, r.version());
      assertEquals(Reason.SHA_MISMATCH, r.reason());
      assertServes(live, 1, w1);

      // v3: intact chunks, but the manifest (validly signed by the trusted key) states another
      // SHA-256.
      Prepared p3 = publisher.prepare(draft(MODEL, 3, 0.6), weights(ARCH, 3));
      EncoderVersion wrongSha =
          EncoderVersion.newBuilder(p3.manifest()).setPayloadSha256(Sha256.hex(w1)).build();
      wrongSha.setSignature(ByteBuffer.wrap(signer.signManifest(wrongSha)));
      sendInTransaction(producer, topic, p3.chunks(), wrongSha);
      r = rec.nextRefused();
      assertEquals(3, r.version());
      assertEquals(Reason.SHA_MISMATCH, r.reason());
      assertTrue(r.message().contains(Sha256.hex(w1)), r.message());
      assertServes(live, 1, w1);

      // v4: signed by a key nobody trusts.
      new EncoderPublisher(topic, ModelSigning.generate(), CHUNK)
          .publishInOwnTransaction(producer, draft(MODEL, 4, 0.6), weights(ARCH, 4));
      r = rec.nextRefused();
      assertEquals(4, r.version());
      assertEquals(Reason.UNKNOWN_KEY, r.reason());
      assertServes(live, 1, w1);

      // v5: the manifest altered after signing (a better kNN claimed): the signature no longer
      // matches.
      Prepared p5 = publisher.prepare(draft(MODEL, 5, 0.6), weights(ARCH, 5));
      EncoderVersion forged = EncoderVersion.newBuilder(p5.manifest()).build();
      forged.getMetrics().setKnnTop1(0.99);
      sendInTransaction(producer, topic, p5.chunks(), forged);
      r = rec.nextRefused();
      assertEquals(5, r.version());
      assertEquals(Reason.BAD_SIGNATURE, r.reason());
      assertServes(live, 1, w1);

      // v6: published in a transaction that is aborted: read_committed never shows it, so it never
      // serves.
      producer.beginTransaction();
      publisher.publish(producer, draft(MODEL, 6, 0.6), weights(ARCH, 6));
      producer.flush();
      producer.abortTransaction();
      // v7: a truncated version committed: its last chunk is missing.
      Prepared p7 = publisher.prepare(draft(MODEL, 7, 0.6), weights(ARCH, 7));
      sendInTransaction(
          producer, topic, p7.chunks().subList(0, p7.chunks().size() - 1), p7.manifest());
      r = rec.nextRefused();
      assertEquals(7, r.version(), "the aborted version 6 was never judged");
      assertEquals(Reason.MISSING_CHUNKS, r.reason());
      assertServes(live, 1, w1);

      // v8: authentic, but the weights belong to another architecture than the manifest declares.
      publisher.publishInOwnTransaction(
          producer, draft(MODEL, 8, 0.6), weights(ARCH.withWidth(8), 8));
      r = rec.nextRefused();
      assertEquals(8, r.version());
      assertEquals(Reason.UNLOADABLE, r.reason());
      assertServes(live, 1, w1);

      // v1 again (a replay): verified, but not newer than what was accepted.
      publisher.publishInOwnTransaction(producer, draft(MODEL, 1, 0.6), w1);
      r = rec.nextRefused();
      assertEquals(1, r.version());
      assertEquals(Reason.NOT_NEWER, r.reason());

      // and a good version still gets through
      byte[] w9 = weights(ARCH, 9);
      publisher.publishInOwnTransaction(producer, draft(MODEL, 9, 0.6), w9);
      assertEquals(9, rec.nextAccepted().version());
      assertServes(live, 9, w9);

      assertEquals(
          List.of(
              "accepted 1",
              "refused 2 SHA_MISMATCH",
              "refused 3 SHA_MISMATCH",
              "refused 4 UNKNOWN_KEY",
              "refused 5 BAD_SIGNATURE",
              "refused 7 MISSING_CHUNKS",
              "refused 8 UNLOADABLE",
              "refused 1 NOT_NEWER",
              "accepted 9"),
          rec.order());
      assertEquals(7, live.refusedCount());
      Map<Reason, Long> expected = new HashMap<>();
      for (Reason reason : Reason.values()) {
        expected.put(reason, 0L);
      }
      expected.putAll(
          Map.of(
              Reason.SHA_MISMATCH,
              2L,
              Reason.UNKNOWN_KEY,
              1L,
              Reason.BAD_SIGNATURE,
              1L,
              Reason.MISSING_CHUNKS,
              1L,
              Reason.UNLOADABLE,
              1L,
              Reason.NOT_NEWER,
              1L));
      assertEquals(expected, live.refusedByReason());
      assertEquals(2, live.acceptedCount());
      assertEquals(1, live.swapCount());
    }
  }

  @Test
  void aSwapUnderConcurrentLoadFailsNoRequest(KafkaCluster cluster) throws Exception {
    String topic = topic(cluster, "load");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = publisher(topic);
    int versions = 4;
    int threads = 8;
    Map<Long, byte[]> weights = new HashMap<>();
    Map<Long, float[]> expected = new HashMap<>();
    DecodedImage img = image(11);
    for (long v = 1; v <= versions; v++) {
      weights.put(v, weights(ARCH, 100 + v));
      expected.put(v, reference(weights.get(v), img));
    }
    try (LiveEncoder live = live(cluster, topic, rec).build().start();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      publisher.publishInOwnTransaction(producer, draft(MODEL, 1, 0.6), weights.get(1L));
      assertTrue(live.awaitReady(WAIT));

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong failures = new AtomicLong();
      AtomicLong wrong = new AtomicLong();
      AtomicLong requests = new AtomicLong();
      List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
      Map<Integer, List<Long>> seen = new ConcurrentHashMap<>();
      CountDownLatch done = new CountDownLatch(threads);
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread th =
            new Thread(
                () -> {
                  List<Long> mine = new ArrayList<>();
                  long last = 0;
                  try {
                    while (!stop.get()) {
                      Embedding e;
                      try {
                        e = live.embed(img);
                      } catch (RuntimeException ex) {
                        failures.incrementAndGet();
                        problems.add("thread " + id + ": " + ex);
                        continue;
                      }
                      requests.incrementAndGet();
                      if (e.version() < last) {
                        problems.add(
                            "thread "
                                + id
                                + " went back from version "
                                + last
                                + " to "
                                + e.version());
                      }
                      if (e.version() != last) {
                        mine.add(e.version());
                      }
                      last = e.version();
                      float[] want = expected.get(e.version());
                      if (want == null || !close(want, e.vector())) {
                        wrong.incrementAndGet();
                        problems.add(
                            "thread " + id + ": vector does not match version " + e.version());
                      }
                    }
                  } finally {
                    seen.put(id, mine);
                    done.countDown();
                  }
                },
                "embedder-" + t);
        th.setDaemon(true);
        th.start();
      }
      for (long v = 2; v <= versions; v++) {
        long before = requests.get();
        publisher.publishInOwnTransaction(producer, draft(MODEL, v, 0.6), weights.get(v));
        assertEquals(v - 1, rec.nextAccepted().version());
        // let requests run on the new version before the next swap
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (requests.get() < before + 200 && System.nanoTime() < until) {
          Thread.sleep(10);
        }
      }
      assertEquals(versions, rec.nextAccepted().version());
      long atLast = requests.get();
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (requests.get() < atLast + 200 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      stop.set(true);
      assertTrue(done.await(30, TimeUnit.SECONDS));

      assertEquals(List.of(), problems.subList(0, Math.min(10, problems.size())));
      assertEquals(0, failures.get(), "failed requests");
      assertEquals(0, wrong.get(), "vectors not made by the version they name");
      assertTrue(requests.get() > 600, "requests: " + requests.get());
      for (Map.Entry<Integer, List<Long>> s : seen.entrySet()) {
        List<Long> vs = s.getValue();
        assertFalse(vs.isEmpty(), "thread " + s.getKey() + " made no request");
        assertEquals(versions, vs.get(vs.size() - 1), "thread " + s.getKey() + " saw " + vs);
      }
      assertEquals(versions - 1, live.swapCount());
      assertEquals(
          versions - 1,
          live.retiredVersionsClosed(),
          "every retired version closed after its last request");
      assertEquals(requests.get(), live.embeddingCount());
      assertTrue(
          live.inFlightAtSwaps() > 0,
          "no request was in flight at any swap: the test did not test it");
      System.out.printf(
          "swap under load: %d requests from %d threads, %d in flight at the %d swaps, swap ms"
              + " (verified -> serving) %s%n",
          requests.get(), threads, live.inFlightAtSwaps(), versions - 1, rec.swapMillis);
    }
  }

  private static boolean close(float[] a, float[] b) {
    if (a.length != b.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (Math.abs(a[i] - b[i]) > EPS) {
        return false;
      }
    }
    return true;
  }

  @Test
  void theQualityGateRefusesARegressionAndVersionsWithoutKnn(KafkaCluster cluster)
      throws Exception {
    String topic = topic(cluster, "gate");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = publisher(topic);
    byte[] w3 = weights(ARCH, 3);
    try (LiveEncoder live =
            live(cluster, topic, rec).policy(SwapPolicy.qualityGate(0.4, 0.05)).build().start();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      publisher.publishInOwnTransaction(producer, draft(MODEL, 1, 0.60), weights(ARCH, 1));
      assertEquals(1, rec.nextAccepted().version());

      publisher.publishInOwnTransaction(producer, draft(MODEL, 2, 0.50), weights(ARCH, 2));
      RefusedVersion r = rec.nextRefused();
      assertEquals(2, r.version());
      assertEquals(Reason.POLICY, r.reason());
      assertTrue(
          r.message().contains("version 2")
              && r.message().contains("0.5000")
              && r.message().contains("0.6000")
              && r.message().contains("0.0500"),
          r.message());
      assertEquals(1, live.current().orElseThrow().version());

      publisher.publishInOwnTransaction(
          producer, draft(MODEL, 3, 0.57), w3); // 0.03 worse: tolerated
      assertEquals(3, rec.nextAccepted().version());

      publisher.publishInOwnTransaction(producer, draft(MODEL, 4, 0.30), weights(ARCH, 4));
      r = rec.nextRefused();
      assertEquals(4, r.version());
      assertTrue(r.message().contains("below the floor 0.4000"), r.message());

      publisher.publishInOwnTransaction(producer, draft(MODEL, 5, null), weights(ARCH, 5));
      r = rec.nextRefused();
      assertEquals(5, r.version());
      assertEquals(Reason.POLICY, r.reason());
      assertTrue(r.message().contains("no kNN top-1"), r.message());

      assertServes(live, 3, w3);
      assertEquals(3, live.refusedCount(Reason.POLICY));
      assertEquals(
          List.of(
              "accepted 1",
              "refused 2 POLICY",
              "accepted 3",
              "refused 4 POLICY",
              "refused 5 POLICY"),
          rec.order());
    }
  }

  @Test
  void aPinnedEncoderServesOnlyThePinnedVersion(KafkaCluster cluster) throws Exception {
    String topic = topic(cluster, "pin");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = publisher(topic);
    byte[] w2 = weights(ARCH, 2);
    try (KafkaProducer<String, Object> producer = producer(cluster)) {
      for (long v = 1; v <= 3; v++) {
        publisher.publishInOwnTransaction(
            producer, draft(MODEL, v, 0.6), v == 2 ? w2 : weights(ARCH, v));
      }
      try (LiveEncoder live = live(cluster, topic, rec).policy(SwapPolicy.pin(2)).build().start()) {
        assertTrue(live.awaitReady(WAIT));
        assertServes(live, 2, w2);
        publisher.publishInOwnTransaction(producer, draft(MODEL, 4, 0.9), weights(ARCH, 4));
        long until = System.nanoTime() + WAIT.toNanos();
        while (rec.order().size() < 4 && System.nanoTime() < until) {
          Thread.sleep(20);
        }
        assertEquals(
            List.of("refused 1 POLICY", "accepted 2", "refused 3 POLICY", "refused 4 POLICY"),
            rec.order());
        assertTrue(rec.refused.stream().allMatch(r -> r.message().contains("pinned version 2")));
        assertServes(live, 2, w2);
        assertEquals(1, live.acceptedCount());
        assertEquals(0, live.swapCount());
      }
    }
  }

  @Test
  void aRestartComesUpOnTheNewestVersionWithoutReadingTheHistory(KafkaCluster cluster)
      throws Exception {
    String topic = topic(cluster, "restart");
    EncoderPublisher publisher = publisher(topic);
    int versions = 12;
    byte[] last = null;
    try (KafkaProducer<String, Object> producer = producer(cluster)) {
      Recorder first = new Recorder();
      try (LiveEncoder live = live(cluster, topic, first).build().start()) {
        for (long v = 1; v <= 3; v++) {
          publisher.publishInOwnTransaction(producer, draft(MODEL, v, 0.6), weights(ARCH, v));
          assertEquals(v, first.nextAccepted().version());
        }
      }
      // published while no live encoder runs
      for (long v = 4; v <= versions; v++) {
        last = weights(ARCH, v);
        publisher.publishInOwnTransaction(producer, draft(MODEL, v, 0.6), last);
      }
    }
    Recorder rec = new Recorder();
    try (LiveEncoder live = live(cluster, topic, rec).build().start()) {
      assertTrue(live.awaitReady(WAIT));
      assertServes(live, versions, last);
      assertEquals(
          List.of("accepted " + versions),
          rec.order(),
          "straight to the newest, nothing older loaded");
      // 4 records + 1 commit marker per version: the newest manifest sits at 5·12 − 2 = 58, its
      // chunks at 55..57.
      long total = versions * 4L;
      assertTrue(
          live.lowestOffsetRead() >= 5L * (versions - 4),
          "lowest offset read " + live.lowestOffsetRead());
      assertTrue(live.recordsRead() <= 16, "records read " + live.recordsRead() + " of " + total);
    }
  }
}
