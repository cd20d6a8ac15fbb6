package io.mocostream.serving.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.registry.serde.SpecificAvroSerde;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.Embedding;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.serving.TestModels;
import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embed-stream topology under TopologyTestDriver, with a real live encoder following a real
 * model topic and the real registry for the Avro serdes.
 */
@ExtendWith(KafkaClusterExtension.class)
class EmbedTopologyTest {
  private static final String MODEL = "topo";

  @Test
  void framesBecomeEmbeddingsOrDeadLettersAndANewVersionTakesOverWithoutRestart(
      KafkaCluster cluster, @TempDir Path dir) throws Exception {
    String in = "topo.frames." + System.nanoTime();
    EmbedOptions options =
        EmbedOptions.defaults(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
            .withTopics(in, in + ".embeddings", in + ".dlq");
    try (TestModels models = new TestModels(cluster, "topo", dir)) {
      models.publish(MODEL, 1);
      try (LiveEncoder encoder =
              LiveEncoder.builder(cluster.bootstrapServers(), cluster.registryUrl(), MODEL)
                  .topic(models.topic)
                  .trustedKeys(models.signer.trustedKeys())
                  .build()
                  .start();
          KafkaAvroSerializer frameSerializer = new KafkaAvroSerializer();
          SpecificAvroSerde<Embedding> embeddingSerde = new SpecificAvroSerde<>(Embedding.class)) {
        assertTrue(encoder.awaitReady(Duration.ofSeconds(60)));
        frameSerializer.configure(
            Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);
        embeddingSerde.configure(
            Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, cluster.registryUrl()), false);

        EmbedTopology.Counters counters = new EmbedTopology.Counters();
        Topology topology =
            EmbedTopology.build(
                new StreamsBuilder(),
                options,
                new LiveEmbedder(encoder, new FrameLimits(1 << 20, 1 << 20)),
                counters);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topo-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
          TestInputTopic<byte[], byte[]> frames =
              driver.createInputTopic(in, new ByteArraySerializer(), new ByteArraySerializer());
          TestOutputTopic<byte[], Embedding> embeddings =
              driver.createOutputTopic(
                  options.outTopic(), new ByteArrayDeserializer(), embeddingSerde.deserializer());
          TestOutputTopic<byte[], byte[]> dlq =
              driver.createOutputTopic(
                  options.dlqTopic(), new ByteArrayDeserializer(), new ByteArrayDeserializer());

          byte[] png = SyntheticVersions.png(24, 3, 11);
          byte[] grey = Frames.grey(16, 2);
          ImageFrame pngFrame = Frames.frame("cam-a", 0, ContentType.PNG, png, null, null);
          ImageFrame greyFrame = Frames.frame("cam-b", 0, ContentType.RAW_GREY, grey, 16, 16);
          List<Object[]> inputs =
              List.of(
                  new Object[] {"cam-a", frameSerializer.serialize(in, pngFrame)},
                  new Object[] {"cam-b", frameSerializer.serialize(in, greyFrame)},
                  new Object[] {
                    "cam-c",
                    frameSerializer.serialize(
                        in,
                        Frames.frame(
                            "cam-c",
                            0,
                            ContentType.PNG,
                            Arrays.copyOf(png, png.length / 2),
                            null,
                            null))
                  },
                  new Object[] {
                    "cam-d",
                    frameSerializer.serialize(
                        in, Frames.frame("cam-d", 0, ContentType.RAW_GREY, new byte[100], 16, 16))
                  },
                  new Object[] {
                    "cam-e",
                    frameSerializer.serialize(
                        in, Frames.frame("cam-e", 0, ContentType.JPEG, new byte[0], null, null))
                  },
                  new Object[] {
                    "cam-f",
                    frameSerializer.serialize(
                        in,
                        Frames.frame(
                            "cam-f", 0, ContentType.RAW_GREY, new byte[64], 100_000, 100_000))
                  },
                  new Object[] {"cam-g", "not avro at all".getBytes(StandardCharsets.UTF_8)},
                  new Object[] {"cam-h", null});
          for (Object[] i : inputs) {
            RecordHeaders headers = new RecordHeaders();
            headers.add("trace", ((String) i[0]).getBytes(StandardCharsets.UTF_8));
            frames.pipeInput(
                new TestRecord<>(
                    ((String) i[0]).getBytes(StandardCharsets.UTF_8),
                    (byte[]) i[1],
                    headers,
                    1_000L));
          }

          List<TestRecord<byte[], Embedding>> out = embeddings.readRecordsToList();
          assertEquals(2, out.size());
          Embedding a = out.get(0).value();
          assertEquals("cam-a", new String(out.get(0).key(), StandardCharsets.UTF_8));
          assertEquals(MODEL, a.getModel());
          assertEquals(1, a.getVersion());
          assertEquals("cam-a", a.getSourceId());
          assertEquals(0, a.getSequence());
          assertEquals(in, a.getFrameTopic());
          assertEquals(0, a.getFramePartition());
          assertEquals(0, a.getFrameOffset());
          assertEquals(1_000L, out.get(0).timestamp(), "the frame's timestamp is kept");
          assertArrayEquals(
              TestModels.reference(1, new ImageDecoder().decode(pngFrame)),
              floats(a.getVector()),
              1e-5f);
          Embedding b = out.get(1).value();
          assertEquals("cam-b", new String(out.get(1).key(), StandardCharsets.UTF_8));
          assertEquals(1, b.getFrameOffset());
          assertArrayEquals(
              TestModels.reference(1, new ImageDecoder().decode(greyFrame)),
              floats(b.getVector()),
              1e-5f);

          List<TestRecord<byte[], byte[]>> dead = dlq.readRecordsToList();
          List<String> reasons =
              dead.stream().map(r -> header(r, DeadLetter.REASON_HEADER)).toList();
          assertEquals(
              List.of(
                  "UNDECODABLE",
                  "SIZE_MISMATCH",
                  "EMPTY",
                  "TOO_MANY_PIXELS",
                  "DESERIALIZE",
                  "EMPTY"),
              reasons); // the last is a tombstone (null value)
          for (int i = 0; i < dead.size(); i++) {
            TestRecord<byte[], byte[]> r = dead.get(i);
            Object[] original = inputs.get(i + 2);
            assertEquals(original[0], new String(r.key(), StandardCharsets.UTF_8));
            assertArrayEquals((byte[]) original[1], r.value(), "the original value, byte for byte");
            assertEquals(in + "-0@" + (i + 2), header(r, DeadLetter.ORIGIN_HEADER));
            assertEquals(original[0], header(r, "trace"), "the original headers are kept");
            assertTrue(header(r, DeadLetter.MESSAGE_HEADER).length() > 10);
          }
          assertTrue(
              header(dead.get(0), DeadLetter.MESSAGE_HEADER)
                  .contains("source \"cam-c\" sequence 0"),
              "the message names the frame: " + header(dead.get(0), DeadLetter.MESSAGE_HEADER));
          assertNull(dead.get(5).value());
          assertEquals(2, counters.embedded());
          assertEquals(6, counters.rejected());

          // A new version: the same topology, the same driver, the next frame is embedded by
          // version 2.
          models.publish(MODEL, 2);
          long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          while (encoder.current().orElseThrow().version() != 2) {
            assertTrue(System.nanoTime() < deadline, "version 2 not served within 30 s");
            Thread.sleep(20);
          }
          frames.pipeInput(
              "cam-a".getBytes(StandardCharsets.UTF_8), frameSerializer.serialize(in, pngFrame));
          Embedding again = embeddings.readValue();
          assertEquals(2, again.getVersion());
          assertEquals(8, again.getFrameOffset());
          assertArrayEquals(
              TestModels.reference(2, new ImageDecoder().decode(pngFrame)),
              floats(again.getVector()),
              1e-5f);
          assertTrue(embeddings.isEmpty());
          assertEquals(Map.of(1L, 2L, 2L, 1L), counters.embeddedByVersion());
        }
      }
    }
  }

  @Test
  void anUnreachableRegistryFailsTheTaskInsteadOfDeadLetteringGoodFrames(@TempDir Path dir) {
    // Port 1 on loopback: nothing listens, so the registry client gets "connection refused".
    EmbedOptions options =
        EmbedOptions.defaults("unused:9092", "http://127.0.0.1:1", MODEL)
            .withTopics("frames", "embeddings", "embeddings.dlq");
    Topology topology =
        EmbedTopology.build(
            new StreamsBuilder(),
            options,
            (frame, input) -> {
              throw new AssertionError(
                  "no frame can be read without the registry, so none reaches the encoder");
            });
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "topo-test-unreachable");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, props)) {
      TestInputTopic<byte[], byte[]> frames =
          driver.createInputTopic("frames", new ByteArraySerializer(), new ByteArraySerializer());
      byte[] wireFormat = {0, 0, 0, 0, 7, 2, 'a'}; // magic byte, schema id 7, an Avro body
      StreamsException e =
          assertThrows(StreamsException.class, () -> frames.pipeInput(new byte[] {1}, wireFormat));
      String messages = "";
      for (Throwable t = e; t != null; t = t.getCause()) {
        messages += t.getMessage() + " / "; // Kafka Streams wraps the processor's exception
      }
      assertTrue(messages.contains("schema registry unavailable"), messages);
      assertTrue(
          driver
              .createOutputTopic(
                  "embeddings.dlq", new ByteArrayDeserializer(), new ByteArrayDeserializer())
              .isEmpty(),
          "a frame the registry could not read is not dead-lettered");
    }
  }

  static float[] floats(List<Float> vector) {
    float[] out = new float[vector.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = vector.get(i);
    }
    return out;
  }

  static String header(TestRecord<?, ?> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
