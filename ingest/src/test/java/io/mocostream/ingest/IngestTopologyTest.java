package io.mocostream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.registry.serde.SpecificAvroSerde;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The ingest topology under TopologyTestDriver, with the real registry behind the Avro serdes. */
@ExtendWith(KafkaClusterExtension.class)
class IngestTopologyTest {
  private static final String IN = "raw";

  static ImageFrame frame(
      String source,
      long sequence,
      ContentType type,
      byte[] data,
      Integer w,
      Integer h,
      Integer label) {
    return ImageFrame.newBuilder()
        .setSourceId(source)
        .setSequence(sequence)
        .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + sequence))
        .setContentType(type)
        .setData(ByteBuffer.wrap(data))
        .setWidth(w)
        .setHeight(h)
        .setLabel(label)
        .setAttributes(Map.of("camera", "north", Normalizer.ORIGIN_ATTRIBUTE, "forged"))
        .build();
  }

  record Driven(
      List<TestRecord<byte[], ImageFrame>> train,
      List<TestRecord<byte[], byte[]>> dlq,
      IngestTopology.Counters counters,
      Map<String, long[]> store) {}

  private Driven drive(
      KafkaCluster cluster, Path dir, IngestOptions options, List<Object[]> inputs) {
    KafkaAvroSerializer serializer = new KafkaAvroSerializer();
    serializer.configure(
        Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
    SpecificAvroSerde<ImageFrame> serde = new SpecificAvroSerde<>(ImageFrame.class);
    serde.configure(
        Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
    IngestTopology.Counters counters = new IngestTopology.Counters();
    Topology topology = IngestTopology.build(new StreamsBuilder(), options, counters);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "ingest-topo-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state-" + System.nanoTime()).toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
      TestInputTopic<byte[], byte[]> raw =
          driver.createInputTopic(IN, new ByteArraySerializer(), new ByteArraySerializer());
      TestOutputTopic<byte[], ImageFrame> train =
          driver.createOutputTopic(
              options.outTopic(), new ByteArrayDeserializer(), serde.deserializer());
      TestOutputTopic<byte[], byte[]> dlq =
          driver.createOutputTopic(
              options.dlqTopic(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
      for (Object[] i : inputs) {
        byte[] value = i[1] instanceof ImageFrame f ? serializer.serialize(IN, f) : (byte[]) i[1];
        RecordHeaders headers = new RecordHeaders();
        headers.add("trace", ((String) i[0]).getBytes(StandardCharsets.UTF_8));
        raw.pipeInput(
            new TestRecord<>(
                ((String) i[0]).getBytes(StandardCharsets.UTF_8), value, headers, 5_000L));
      }
      Map<String, long[]> store = new java.util.TreeMap<>();
      if (options.dedup().enabled()) {
        KeyValueStore<String, byte[]> kv = driver.getKeyValueStore(IngestTopology.DEDUP_STORE);
        kv.all()
            .forEachRemaining(
                e -> {
                  IngestTopology.Window w = IngestTopology.Window.decode(e.value);
                  store.put(e.key, new long[] {w.kept(), w.dropped()});
                });
      }
      return new Driven(train.readRecordsToList(), dlq.readRecordsToList(), counters, store);
    } finally {
      serializer.close();
      serde.close();
    }
  }

  @Test
  void framesAreResizedReencodedDedupedOrDeadLetteredWithTheirReason(
      KafkaCluster cluster, @TempDir Path dir) {
    IngestOptions options =
        IngestOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl())
            .withTopics(IN, "train", "dlq");
    BufferedImage sceneA = SyntheticScenes.scene(640, 480, 1);
    byte[] pngA = SyntheticScenes.png(sceneA);
    byte[] jpegA2 =
        SyntheticScenes.jpeg(SyntheticScenes.jitter(sceneA, 5, 3), 0.9f); // A a moment later
    byte[] jpegB = SyntheticScenes.jpeg(SyntheticScenes.scene(480, 640, 2), 0.9f);
    byte[] grey = new byte[28 * 28];
    for (int i = 0; i < grey.length; i++) {
      grey[i] = (byte) (i * 7);
    }
    List<Object[]> inputs =
        List.of(
            new Object[] {"cam-a", frame("cam-a", 0, ContentType.PNG, pngA, 640, 480, 3)},
            new Object[] {"cam-a", frame("cam-a", 1, ContentType.JPEG, jpegA2, null, null, null)},
            new Object[] {"cam-z", frame("cam-z", 0, ContentType.JPEG, jpegA2, null, null, null)},
            new Object[] {"cam-b", frame("cam-b", 0, ContentType.JPEG, jpegB, null, null, null)},
            new Object[] {"mnist", frame("mnist", 0, ContentType.RAW_GREY, grey, 28, 28, 7)},
            new Object[] {
              "bad-1",
              frame(
                  "bad-1",
                  0,
                  ContentType.PNG,
                  Arrays.copyOf(pngA, pngA.length / 2),
                  null,
                  null,
                  null)
            },
            new Object[] {
              "bad-2", frame("bad-2", 0, ContentType.RAW_GREY, new byte[100], 28, 28, null)
            },
            new Object[] {
              "bad-3", frame("bad-3", 0, ContentType.RAW_RGB, new byte[64], 100_000, 100_000, null)
            },
            new Object[] {"bad-4", frame("bad-4", 0, ContentType.PNG, jpegB, null, null, null)},
            new Object[] {"bad-5", "hello".getBytes(StandardCharsets.UTF_8)},
            new Object[] {"bad-6", null});
    Driven d = drive(cluster, dir, options, inputs);

    List<String> trainedIds =
        d.train().stream()
            .map(r -> r.value().getSourceId() + "/" + r.value().getSequence())
            .toList();
    assertEquals(
        List.of("cam-a/0", "cam-z/0", "cam-b/0", "mnist/0"),
        trainedIds,
        "cam-a/1 is a near-duplicate of cam-a/0; the same picture from another source is not");
    TestRecord<byte[], ImageFrame> a = d.train().get(0);
    ImageFrame fa = a.value();
    assertEquals("cam-a", new String(a.key(), StandardCharsets.UTF_8));
    assertEquals(5_000L, a.timestamp(), "the raw record's timestamp is kept");
    assertEquals("cam-a", header(a, "trace"), "the raw record's headers are kept");
    assertEquals(ContentType.RAW_RGB, fa.getContentType());
    assertEquals(85, fa.getWidth());
    assertEquals(64, fa.getHeight());
    assertEquals(3, fa.getLabel());
    assertEquals(Instant.ofEpochMilli(1_700_000_000_000L), fa.getCaptureTime());
    assertEquals("north", fa.getAttributes().get("camera"));
    assertEquals(
        IN + "-0@0",
        fa.getAttributes().get(Normalizer.ORIGIN_ATTRIBUTE),
        "a forged origin is replaced");
    assertEquals("640x480", fa.getAttributes().get(Normalizer.SOURCE_SIZE_ATTRIBUTE));
    DecodedImage expected = AreaResize.resize(new ImageDecoder().decode(pngA, "png"), 85, 64);
    assertArrayEquals(
        expected.pixels(), bytes(fa.getData()), "area-averaged from the decoded frame");
    ImageFrame fb = d.train().get(2).value();
    assertEquals(64, fb.getWidth(), "portrait keeps its aspect ratio");
    assertEquals(85, fb.getHeight());
    ImageFrame mnist = d.train().get(3).value();
    assertEquals(ContentType.RAW_GREY, mnist.getContentType());
    assertEquals(28, mnist.getWidth(), "never upscaled");
    assertArrayEquals(grey, bytes(mnist.getData()));
    assertEquals(7, mnist.getLabel());
    // The trainer's decoder accepts what ingest writes.
    assertEquals(85 * 64 * 3, new ImageDecoder().decode(fa, "train").pixels().length);

    List<String> reasons = d.dlq().stream().map(r -> header(r, DeadLetter.REASON_HEADER)).toList();
    assertEquals(
        List.of(
            "UNDECODABLE",
            "SIZE_MISMATCH",
            "TOO_MANY_PIXELS",
            "TYPE_MISMATCH",
            "DESERIALIZE",
            "EMPTY"),
        reasons);
    for (int i = 0; i < d.dlq().size(); i++) {
      TestRecord<byte[], byte[]> r = d.dlq().get(i);
      Object[] original = inputs.get(i + 5);
      assertEquals(original[0], new String(r.key(), StandardCharsets.UTF_8));
      if (original[1] instanceof byte[] b) {
        assertArrayEquals(b, r.value(), "the original value, byte for byte");
      }
      assertEquals(IN + "-0@" + (i + 5), header(r, DeadLetter.ORIGIN_HEADER));
      assertEquals(DeadLetter.INGEST, header(r, DeadLetter.STAGE_HEADER));
      assertEquals(original[0], header(r, "trace"));
    }
    assertTrue(
        header(d.dlq().get(0), DeadLetter.MESSAGE_HEADER).contains("source \"bad-1\" sequence 0"),
        header(d.dlq().get(0), DeadLetter.MESSAGE_HEADER));

    assertEquals(11, d.counters().read());
    assertEquals(4, d.counters().trained());
    assertEquals(1, d.counters().dropped());
    assertEquals(6, d.counters().rejected());
    assertArrayEquals(
        new long[] {1, 1}, d.store().get("cam-a"), "cam-a: one kept, one dropped, in the store");
    assertArrayEquals(new long[] {1, 0}, d.store().get("cam-z"));
  }

  @Test
  void theOffSwitchKeepsNearDuplicatesAndSizeAndFormatAreOptions(
      KafkaCluster cluster, @TempDir Path dir) {
    IngestOptions options =
        IngestOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl())
            .withTopics(IN, "train", "dlq")
            .withDedup(IngestOptions.Dedup.OFF)
            .withImages(32, Normalizer.OutputFormat.PNG);
    BufferedImage scene = SyntheticScenes.scene(320, 240, 3);
    List<Object[]> inputs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      inputs.add(
          new Object[] {
            "cam",
            frame(
                "cam",
                i,
                ContentType.JPEG,
                SyntheticScenes.jpeg(SyntheticScenes.jitter(scene, i, 2), 0.9f),
                null,
                null,
                null)
          });
    }
    Driven d = drive(cluster, dir, options, inputs);
    assertEquals(3, d.train().size(), "dedup off: every frame kept");
    assertEquals(0, d.counters().dropped());
    ImageFrame f = d.train().get(0).value();
    assertEquals(ContentType.PNG, f.getContentType());
    DecodedImage back = new ImageDecoder().decode(f, "png");
    assertEquals(43, back.width());
    assertEquals(32, back.height());

    // The same frames with dedup on and a window of 1, distance 64: everything after the first is a
    // duplicate.
    Driven strict =
        drive(cluster, dir, options.withDedup(new IngestOptions.Dedup(true, 64, 1)), inputs);
    assertEquals(1, strict.train().size());
    assertEquals(2, strict.counters().dropped());
  }

  @Test
  void anUnreachableRegistryFailsTheTaskInsteadOfDeadLetteringGoodFrames(@TempDir Path dir) {
    // Port 1 on loopback: nothing listens, so the registry client gets "connection refused".
    IngestOptions options =
        IngestOptions.defaults("unused:9092", "http://127.0.0.1:1").withTopics(IN, "train", "dlq");
    IngestTopology.Counters counters = new IngestTopology.Counters();
    Topology topology = IngestTopology.build(new StreamsBuilder(), options, counters);
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "ingest-topo-unreachable");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
      TestInputTopic<byte[], byte[]> raw =
          driver.createInputTopic(IN, new ByteArraySerializer(), new ByteArraySerializer());
      byte[] wireFormat = {0, 0, 0, 0, 7, 2, 'a'}; // magic byte, schema id 7, an Avro body
      StreamsException e =
          assertThrows(StreamsException.class, () -> raw.pipeInput(new byte[] {1}, wireFormat));
      String messages = "";
      for (Throwable t = e; t != null; t = t.getCause()) {
        messages += t.getMessage() + " / ";
      }
      assertTrue(messages.contains("schema registry unavailable"), messages);
      assertTrue(
          driver
              .createOutputTopic("dlq", new ByteArrayDeserializer(), new ByteArrayDeserializer())
              .isEmpty(),
          "a frame the registry could not read is not dead-lettered");
      assertEquals(1, counters.registryFailures());
    }
  }

  @Test
  void windowKeepsTheLastKeptHashesAndLongSourceIdsAreHashedForTheStoreKey() {
    IngestTopology.Window w = IngestTopology.Window.EMPTY;
    for (long h = 1; h <= 5; h++) {
      w = w.keep(h << 20, 3);
    }
    assertArrayEquals(new long[] {3L << 20, 4L << 20, 5L << 20}, w.hashes());
    w = w.drop();
    IngestTopology.Window back = IngestTopology.Window.decode(w.encode());
    assertEquals(5, back.kept());
    assertEquals(1, back.dropped());
    assertArrayEquals(w.hashes(), back.hashes());
    assertEquals(0, back.nearest(4L << 20));
    assertEquals(65, IngestTopology.Window.EMPTY.nearest(0));
    assertEquals("cam-1", IngestTopology.storeKey("cam-1"));
    String key = IngestTopology.storeKey("x".repeat(100_000));
    assertTrue(key.startsWith("sha256:") && key.length() == 71, key);
  }

  /** A training record's frame, read as the trainer reads it. */
  static ImageFrame readFrame(
      KafkaCluster cluster, org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> r) {
    try (io.mocostream.frames.FrameReader reader =
        io.mocostream.frames.FrameReader.forRegistry(cluster.registryUrl())) {
      return reader.read(r.topic(), r.headers(), r.value(), r.topic() + "@" + r.offset());
    }
  }

  static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  static String header(TestRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
