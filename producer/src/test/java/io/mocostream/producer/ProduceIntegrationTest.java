package io.mocostream.producer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.Reason;
import io.mocostream.producer.source.SourceItem;
import io.mocostream.producer.source.SyntheticSource;
import io.mocostream.producer.testing.Frames;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The produce command against a real broker and registry; frames read back with a plain consumer.
 */
@ExtendWith(KafkaClusterExtension.class)
class ProduceIntegrationTest {
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
  @TempDir Path dir;
  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

  static String topic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static byte[] data(ImageFrame f) {
    ByteBuffer b = f.getData().duplicate();
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return a;
  }

  @Test
  void correlatedFeedArrivesAsInterleavedCameraBursts(KafkaCluster cluster) {
    String topic = topic("correlated");
    cluster.createTopic(topic, 2);
    var settings = new io.mocostream.producer.source.CorrelatedSource.Settings(4, 3, 100, 5);
    ProduceSummary s =
        ProduceCommand.runCorrelated(
            ProduceOptions.of(cluster.bootstrapServers(), cluster.registryUrl(), "synthetic:4")
                .withTopic(topic)
                .withMax(120)
                .withSourceId("yard")
                .withProgress(ProduceOptions.ProgressMode.QUIET),
            settings,
            out);
    assertEquals(120, s.published());
    List<ConsumerRecord<String, ImageFrame>> records =
        Frames.read(cluster, topic, 120, READ_TIMEOUT);
    assertEquals(120, records.size());
    java.util.Map<String, List<ImageFrame>> byCamera = new java.util.TreeMap<>();
    for (ConsumerRecord<String, ImageFrame> r : records) {
      byCamera.computeIfAbsent(r.key(), k -> new java.util.ArrayList<>()).add(r.value());
    }
    assertEquals(java.util.Set.of("yard/cam-0", "yard/cam-1", "yard/cam-2"), byCamera.keySet());
    for (List<ImageFrame> frames : byCamera.values()) {
      assertEquals(40, frames.size());
      frames.sort(java.util.Comparator.comparing(ImageFrame::getCaptureTime));
      for (int i = 0;
          i < frames.size();
          i++) { // one key = one partition = in order: bursts of 4, 100 ms apart
        assertEquals(Integer.toString(i % 4), frames.get(i).getAttributes().get("burst_frame"));
        assertEquals(frames.get(i - i % 4).getLabel(), frames.get(i).getLabel());
        assertEquals(32, frames.get(i).getWidth());
      }
    }
  }

  @Test
  void syntheticThousandFramesAreReadBackInOrder(KafkaCluster cluster) {
    String topic = topic("synthetic");
    cluster.createTopic(topic, 3);
    ProduceSummary s =
        ProduceCommand.run(
            ProduceOptions.of(cluster.bootstrapServers(), cluster.registryUrl(), "synthetic:4")
                .withTopic(topic)
                .withMax(1000)
                .withSourceId("cam-7")
                .withSeed(99)
                .withProgress(ProduceOptions.ProgressMode.LOG),
            out);
    assertEquals(1000, s.published());
    assertEquals(0, s.refused());
    assertTrue(
        printed.toString(StandardCharsets.UTF_8).contains("published 1000 frames"),
        printed::toString);

    List<ConsumerRecord<String, ImageFrame>> records =
        Frames.read(cluster, topic, 1000, READ_TIMEOUT);
    assertEquals(1000, records.size());
    SyntheticSource expected = new SyntheticSource(4, 99, "cam-7");
    int partition = records.get(0).partition();
    for (int i = 0; i < 1000; i++) {
      ConsumerRecord<String, ImageFrame> r = records.get(i);
      ImageFrame f = r.value();
      SourceItem want = (SourceItem) expected.next();
      assertEquals("cam-7", r.key());
      assertEquals(partition, r.partition(), "one key, one partition");
      assertEquals(i, r.offset());
      assertEquals("cam-7", f.getSourceId());
      assertEquals(i, f.getSequence());
      assertEquals(ContentType.PNG, f.getContentType());
      assertEquals(32, f.getWidth());
      assertEquals(32, f.getHeight());
      assertEquals(want.label(), f.getLabel());
      assertArrayEquals(want.data(), data(f), "frame " + i);
      assertEquals(Integer.toString(i), f.getAttributes().get("index"));
    }
  }

  @Test
  void folderWithGoodAndBadFilesPublishesTheGoodAndCountsTheBad(KafkaCluster cluster)
      throws IOException {
    Files.write(dir.resolve("a-photo.jpg"), TestImages.jpeg(120, 80));
    Files.write(dir.resolve("b-drawing.png"), TestImages.png(50, 50));
    Files.write(dir.resolve("c-anim.gif"), TestImages.gif(16, 16));
    Files.write(dir.resolve("d-empty.jpg"), new byte[0]);
    byte[] jpeg = TestImages.jpeg(200, 200);
    Files.write(dir.resolve("e-truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
    Files.writeString(dir.resolve("f-notes.png"), "not an image at all");
    Files.write(dir.resolve("g-bomb.png"), TestImages.pngHeaderOnly(100_000, 100_000));
    byte[] big = new byte[300_000];
    big[0] = (byte) 0xFF;
    big[1] = (byte) 0xD8;
    big[2] = (byte) 0xFF;
    Files.write(dir.resolve("h-big.jpg"), big);

    String topic = topic("dir");
    ProduceSummary s =
        ProduceCommand.run(
            ProduceOptions.of(cluster.bootstrapServers(), cluster.registryUrl(), "dir:" + dir)
                .withTopic(topic)
                .withLimits(new FrameLimits(200_000, FrameLimits.DEFAULT_MAX_PIXELS))
                .withProgress(ProduceOptions.ProgressMode.QUIET),
            out);
    assertEquals(3, s.published());
    assertEquals(5, s.refused());
    assertEquals(1, s.refused(Reason.EMPTY));
    assertEquals(1, s.refused(Reason.UNDECODABLE));
    assertEquals(1, s.refused(Reason.UNSUPPORTED_TYPE));
    assertEquals(1, s.refused(Reason.TOO_MANY_PIXELS));
    assertEquals(1, s.refused(Reason.TOO_MANY_BYTES));
    String text = printed.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("e-truncated.jpg: undecodable"), text);
    assertTrue(text.contains("g-bomb.png: too_many_pixels"), text);

    List<ConsumerRecord<String, ImageFrame>> records = Frames.read(cluster, topic, 3, READ_TIMEOUT);
    assertEquals(3, records.size());
    String folder = dir.getFileName().toString();
    assertEquals(
        List.of("a-photo.jpg", "b-drawing.png", "c-anim.gif"),
        records.stream().map(r -> r.value().getAttributes().get("file")).toList());
    assertEquals(
        List.of(ContentType.JPEG, ContentType.PNG, ContentType.GIF),
        records.stream().map(r -> r.value().getContentType()).toList());
    assertEquals(List.of(0L, 1L, 2L), records.stream().map(r -> r.value().getSequence()).toList());
    assertEquals(List.of(120, 50, 16), records.stream().map(r -> r.value().getWidth()).toList());
    records.forEach(r -> assertEquals(folder, r.key()));
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("b-drawing.png")), data(records.get(1).value()));
  }

  @Test
  void idxLabelsAreCarriedAndLoopRestartsTheFile(KafkaCluster cluster) throws IOException {
    int n = 5;
    Path images = dir.resolve("imgs.idx");
    Path labels = dir.resolve("labels.idx");
    try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(images))) {
      o.writeInt(0x0803);
      o.writeInt(n);
      o.writeInt(2);
      o.writeInt(3);
      for (int i = 0; i < n * 6; i++) {
        o.write(i);
      }
    }
    try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(labels))) {
      o.writeInt(0x0801);
      o.writeInt(n);
      for (int i = 0; i < n; i++) {
        o.write(9 - i);
      }
    }
    String topic = topic("idx");
    ProduceSummary s =
        ProduceCommand.run(
            ProduceOptions.of(
                    cluster.bootstrapServers(),
                    cluster.registryUrl(),
                    "idx:" + images + "," + labels)
                .withTopic(topic)
                .withLoop(true)
                .withMax(12)
                .withRate(200)
                .withProgress(ProduceOptions.ProgressMode.QUIET),
            out);
    assertEquals(12, s.published());
    List<ConsumerRecord<String, ImageFrame>> records =
        Frames.read(cluster, topic, 12, READ_TIMEOUT);
    assertEquals(12, records.size());
    for (int i = 0; i < 12; i++) {
      ImageFrame f = records.get(i).value();
      int k = i % n;
      assertEquals("imgs.idx", records.get(i).key());
      assertEquals(i, f.getSequence());
      assertEquals(ContentType.RAW_GREY, f.getContentType());
      assertEquals(3, f.getWidth());
      assertEquals(2, f.getHeight());
      assertEquals(9 - k, f.getLabel());
      assertArrayEquals(
          new byte[] {
            (byte) (k * 6),
            (byte) (k * 6 + 1),
            (byte) (k * 6 + 2),
            (byte) (k * 6 + 3),
            (byte) (k * 6 + 4),
            (byte) (k * 6 + 5)
          },
          data(f));
    }
  }

  @Test
  void watchedFolderPublishesFilesDroppedInUntilMax(KafkaCluster cluster) throws Exception {
    String topic = topic("watch");
    Path inbox = Files.createDirectories(dir.resolve("inbox"));
    ProduceOptions opts =
        ProduceOptions.of(cluster.bootstrapServers(), cluster.registryUrl(), "dir:" + inbox)
            .withTopic(topic)
            .withWatch(true)
            .withMax(2)
            .withSourceId("door-cam")
            .withProgress(ProduceOptions.ProgressMode.QUIET);
    CompletableFuture<ProduceSummary> run =
        CompletableFuture.supplyAsync(() -> ProduceCommand.run(opts, out));
    Thread.sleep(500);
    byte[] first = TestImages.jpeg(32, 24);
    Path tmp = inbox.resolve(".first.jpg.tmp");
    Files.write(tmp, first);
    Files.move(tmp, inbox.resolve("first.jpg"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Files.writeString(inbox.resolve("readme.txt"), "not a picture");
    byte[] second = TestImages.png(16, 16);
    Files.write(inbox.resolve("second.png"), second);

    ProduceSummary s = run.get(60, TimeUnit.SECONDS);
    assertEquals(2, s.published());
    List<ConsumerRecord<String, ImageFrame>> records = Frames.read(cluster, topic, 2, READ_TIMEOUT);
    assertEquals(2, records.size());
    records.forEach(r -> assertEquals("door-cam", r.key()));
    assertEquals(
        java.util.Set.of("first.jpg", "second.png"),
        java.util.Set.copyOf(
            records.stream().map(r -> r.value().getAttributes().get("file")).toList()));
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void brokerDownIsAClearErrorNotAHang(KafkaCluster cluster) throws IOException {
    String bootstrap = "127.0.0.1:" + closedPort();
    ProduceException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(90),
            () ->
                assertThrows(
                    ProduceException.class,
                    () ->
                        ProduceCommand.run(
                            ProduceOptions.of(bootstrap, cluster.registryUrl(), "synthetic")
                                .withMax(10)
                                .withProgress(ProduceOptions.ProgressMode.QUIET),
                            out)));
    assertTrue(e.getMessage().contains("broker at " + bootstrap + " unreachable"), e.getMessage());
  }

  @Test
  void brokerGoingAwayMidRunStopsTheRunWithAClearError(KafkaCluster cluster) throws Exception {
    EmbeddedKafka broker = EmbeddedKafka.startTemporary();
    String bootstrap = broker.bootstrapServers();
    CompletableFuture<ProduceSummary> run;
    try {
      // Shorter client timeouts than the defaults (15 s metadata, 30 s delivery) keep the test
      // short.
      ProduceOptions opts =
          ProduceOptions.of(bootstrap, cluster.registryUrl(), "synthetic")
              .withRate(200)
              .withTopic(topic("dies"))
              .withProgress(ProduceOptions.ProgressMode.QUIET)
              .withProducerProps(
                  Map.of(
                      "max.block.ms",
                      "3000",
                      "request.timeout.ms",
                      "2000",
                      "delivery.timeout.ms",
                      "5000",
                      "reconnect.backoff.max.ms",
                      "500"));
      run = CompletableFuture.supplyAsync(() -> ProduceCommand.run(opts, out));
      awaitFramesIn(bootstrap, opts.topic(), run);
    } finally {
      broker.close();
    }
    ExecutionException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(90), () -> assertThrows(ExecutionException.class, run::get));
    ProduceException pe = assertInstanceOf(ProduceException.class, e.getCause());
    assertTrue(pe.getMessage().contains("broker at " + bootstrap), pe.getMessage());
    assertTrue(
        pe.partialSummary() != null && pe.partialSummary().published() > 0,
        String.valueOf(pe.partialSummary()));
  }

  /** Waits until frames are in the topic (end offset > 0) while the run is still going. */
  private static void awaitFramesIn(
      String bootstrap, String topic, CompletableFuture<ProduceSummary> run) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      TopicPartition tp = new TopicPartition(topic, 0);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        assertTrue(!run.isDone(), () -> "the run ended early: " + run);
        try {
          long end =
              admin
                  .listOffsets(Map.of(tp, OffsetSpec.latest()))
                  .partitionResult(tp)
                  .get(5, TimeUnit.SECONDS)
                  .offset();
          if (end > 0) {
            return;
          }
        } catch (ExecutionException e) {
          // topic not created yet
        }
        Thread.sleep(100);
      }
      throw new AssertionError("no frames reached " + topic);
    }
  }

  @Test
  void registryDownIsAClearError(KafkaCluster cluster) throws IOException {
    String registry = "http://127.0.0.1:" + closedPort();
    ProduceException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(90),
            () ->
                assertThrows(
                    ProduceException.class,
                    () ->
                        ProduceCommand.run(
                            ProduceOptions.of(cluster.bootstrapServers(), registry, "synthetic")
                                .withMax(10)
                                .withTopic(topic("noreg"))
                                .withProgress(ProduceOptions.ProgressMode.QUIET),
                            out)));
    assertTrue(
        e.getMessage().contains("schema registry at " + registry + " unreachable"), e.getMessage());
  }

  @Test
  void badInputFailsBeforeAnyNetwork() throws IOException {
    ProduceException e =
        assertThrows(
            ProduceException.class,
            () ->
                ProduceCommand.run(
                    ProduceOptions.of(
                        "127.0.0.1:1", "http://127.0.0.1:1", "dir:" + dir.resolve("missing")),
                    out));
    assertTrue(e.getMessage().contains("missing does not exist"), e.getMessage());
    e =
        assertThrows(
            ProduceException.class,
            () ->
                ProduceCommand.run(
                    ProduceOptions.of("127.0.0.1:1", "http://127.0.0.1:1", "camera:0"), out));
    assertTrue(e.getMessage().contains("unknown source kind 'camera'"), e.getMessage());
    e =
        assertThrows(
            ProduceException.class,
            () ->
                ProduceCommand.run(
                    ProduceOptions.of("127.0.0.1:1", "http://127.0.0.1:1", "synthetic")
                        .withWatch(true),
                    out));
    assertTrue(e.getMessage().contains("--watch applies to dir:"), e.getMessage());
    e =
        assertThrows(
            ProduceException.class,
            () ->
                ProduceCommand.run(
                    ProduceOptions.of("127.0.0.1:1", "http://127.0.0.1:1", "http:0").withRate(5),
                    out));
    assertTrue(e.getMessage().contains("not to the upload endpoint"), e.getMessage());
    Path badIdx = Files.writeString(dir.resolve("bad.idx"), "not idx");
    e =
        assertThrows(
            ProduceException.class,
            () ->
                ProduceCommand.run(
                    ProduceOptions.of("127.0.0.1:1", "http://127.0.0.1:1", "idx:" + badIdx), out));
    assertTrue(e.getMessage().contains("bad.idx: not an IDX file"), e.getMessage());
  }
}
