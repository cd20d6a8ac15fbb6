package io.mocostream.trainer.stream;

import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writes small labelled grey frames (and, on request, broken ones) to a frames topic, as a producer
 * would.
 */
final class TestFrames {
  private TestFrames() {}

  /**
   * Sends {@code count} 16×16 RAW_GREY frames from two sources; frame i is broken (PNG content
   * type, bytes that are not a PNG) when {@code broken(i)}. Returns after every send is
   * acknowledged.
   */
  static void send(
      String bootstrap,
      String registryUrl,
      String topic,
      int count,
      java.util.function.IntPredicate broken)
      throws Exception {
    KafkaAvroSerializer values = new KafkaAvroSerializer();
    values.configure(Map.of("schema.registry.url", registryUrl), false);
    try (var producer =
        new KafkaProducer<String, Object>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new StringSerializer(),
            values)) {
      SplittableRandom random = new SplittableRandom(42);
      for (int i = 0; i < count; i++) {
        String source = "cam-" + (i % 2);
        int label = i % 4;
        byte[] pixels = new byte[16 * 16];
        for (int y = 0; y < 16; y++) {
          for (int x = 0; x < 16; x++) {
            // Four classes of stripes (horizontal, vertical, two diagonals) plus noise.
            int v =
                switch (label) {
                  case 0 -> y;
                  case 1 -> x;
                  case 2 -> x + y;
                  default -> x - y + 16;
                };
            pixels[y * 16 + x] = (byte) ((v % 4 < 2 ? 200 : 40) + random.nextInt(30));
          }
        }
        ImageFrame frame =
            ImageFrame.newBuilder()
                .setSourceId(source)
                .setSequence(i / 2)
                .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + 40L * i))
                .setContentType(broken.test(i) ? ContentType.PNG : ContentType.RAW_GREY)
                .setData(ByteBuffer.wrap(broken.test(i) ? new byte[] {1, 2, 3, 4, 5} : pixels))
                .setWidth(broken.test(i) ? null : 16)
                .setHeight(broken.test(i) ? null : 16)
                .setLabel(label)
                .build();
        producer.send(new ProducerRecord<>(topic, source, frame)).get();
      }
    }
  }
}
