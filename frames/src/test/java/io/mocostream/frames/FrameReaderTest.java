package io.mocostream.frames;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.schemas.StepSegment;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The shared record reader against a real registry: what is the record's fault, and what is the
 * registry's.
 */
@ExtendWith(KafkaClusterExtension.class)
class FrameReaderTest {
  private static final String TOPIC = "frame-reader-test";

  private static byte[] serialize(KafkaCluster cluster, Object value) {
    try (KafkaAvroSerializer s = new KafkaAvroSerializer()) {
      s.configure(
          Map.of(
              KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG,
              cluster.registryUrl(),
              KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY,
              "TopicRecordNameStrategy"),
          false);
      return s.serialize(TOPIC, value);
    }
  }

  private static ImageFrame frame() {
    return ImageFrame.newBuilder()
        .setSourceId("cam-1")
        .setSequence(3)
        .setCaptureTime(Instant.ofEpochMilli(1))
        .setContentType(ContentType.RAW_GREY)
        .setData(ByteBuffer.wrap(new byte[4]))
        .setWidth(2)
        .setHeight(2)
        .build();
  }

  private static Reason reasonOf(FrameReader reader, byte[] value) {
    return assertThrows(
            FrameRejectedException.class,
            () -> reader.read(TOPIC, new RecordHeaders(), value, "t-0@0"))
        .reason();
  }

  @Test
  void readsFramesAndNamesWhatIsWrongWithTheRest(KafkaCluster cluster) {
    byte[] good = serialize(cluster, frame());
    try (FrameReader reader = FrameReader.forRegistry(cluster.registryUrl())) {
      assertEquals("cam-1", reader.read(TOPIC, new RecordHeaders(), good, "t-0@0").getSourceId());
      assertEquals(Reason.EMPTY, reasonOf(reader, null));
      assertEquals(Reason.EMPTY, reasonOf(reader, new byte[0]));
      assertEquals(Reason.DESERIALIZE, reasonOf(reader, "hello".getBytes(StandardCharsets.UTF_8)));
      assertEquals(Reason.DESERIALIZE, reasonOf(reader, Arrays.copyOf(good, good.length - 3)));
      byte[] unknownId = good.clone();
      unknownId[1] = 0x7F; // schema id 2^30-ish: the registry answers 404
      assertEquals(Reason.DESERIALIZE, reasonOf(reader, unknownId));
      byte[] other = serialize(cluster, new StepSegment("t", 0, 0L, 1L));
      assertEquals(Reason.NOT_AN_IMAGE_FRAME, reasonOf(reader, other));
    }
  }

  @Test
  void anUnreachableRegistryIsNotTheRecordsFault(KafkaCluster cluster) throws Exception {
    byte[] good = serialize(cluster, frame());
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (FrameReader reader = FrameReader.forRegistry("http://127.0.0.1:" + closedPort)) {
      RegistryUnavailableException e =
          assertThrows(
              RegistryUnavailableException.class,
              () -> reader.read(TOPIC, new RecordHeaders(), good, "t-0@7"));
      assertTrue(e.getMessage().contains("t-0@7"), e.getMessage());
    }
  }

  @Test
  void deadLettersReplaceForgedHeadersAndEscapeControlCharacters() {
    RecordHeaders original = new RecordHeaders();
    original.add("trace", new byte[] {1});
    original.add(DeadLetter.REASON_HEADER, "FORGED".getBytes(StandardCharsets.UTF_8));
    DeadLetter letter =
        new DeadLetter(
            Reason.UNDECODABLE, "line 1\naccepted version 99", "t-0@5", DeadLetter.INGEST);
    var headers = letter.headersOn(original);
    assertEquals(
        1,
        headers.toArray().length - 4,
        "the original's own header is kept, the forged one replaced");
    DeadLetter read = DeadLetter.from(headers).orElseThrow();
    assertEquals(Reason.UNDECODABLE, read.reason());
    assertEquals("line 1\\naccepted version 99", read.message());
    assertEquals("t-0@5", read.origin());
    assertEquals("ingest", read.stage());
    assertEquals(Reason.INTERNAL, Reason.fromHeader("NO_SUCH_REASON"));
  }
}
