package io.mocostream.registry.serde;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Serde hot path against plain Avro in the same process (the baseline: a reused encoder/decoder and
 * datum writer/reader, no registry, no header). Reports records/s and the ratio; run by hand, not
 * by surefire: {@code java -cp <test classpath> io.mocostream.registry.serde.SerdeBenchmark
 * [records] [payloadBytes]}.
 */
public final class SerdeBenchmark {
  private SerdeBenchmark() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int payload = args.length > 1 ? Integer.parseInt(args[1]) : 3_000;
    ImageFrame[] frames = new ImageFrame[n];
    Random random = new Random(7);
    for (int i = 0; i < n; i++) {
      byte[] data = new byte[payload];
      random.nextBytes(data);
      frames[i] =
          ImageFrame.newBuilder()
              .setSourceId("cam-" + (i % 8))
              .setSequence(i)
              .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + i))
              .setContentType(ContentType.JPEG)
              .setData(ByteBuffer.wrap(data))
              .setWidth(32)
              .setHeight(32)
              .setLabel(i % 10)
              .setAttributes(Map.of("file", "img-" + i + ".jpg"))
              .build();
    }
    try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
        EmbeddedSchemaRegistry registry =
            EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
        KafkaAvroSerializer serializer = new KafkaAvroSerializer();
        KafkaAvroDeserializer deserializer = new KafkaAvroDeserializer()) {
      serializer.configure(Map.of("schema.registry.url", registry.url()), false);
      deserializer.configure(
          Map.of("schema.registry.url", registry.url(), "specific.avro.reader", true), false);

      SpecificDatumWriter<ImageFrame> writer =
          new SpecificDatumWriter<>(ImageFrame.getClassSchema(), frames[0].getSpecificData());
      SpecificDatumReader<ImageFrame> reader =
          new SpecificDatumReader<>(
              ImageFrame.getClassSchema(),
              ImageFrame.getClassSchema(),
              frames[0].getSpecificData());
      ByteArrayOutputStream out = new ByteArrayOutputStream(payload + 256);
      BinaryEncoder[] enc = new BinaryEncoder[1];
      BinaryDecoder[] dec = new BinaryDecoder[1];

      byte[][] plain = new byte[n][];
      byte[][] wire = new byte[n][];
      Runnable plainWrite =
          () -> {
            try {
              for (int i = 0; i < n; i++) {
                out.reset();
                enc[0] = EncoderFactory.get().directBinaryEncoder(out, enc[0]);
                writer.write(frames[i], enc[0]);
                plain[i] = out.toByteArray();
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };
      Runnable serdeWrite =
          () -> {
            for (int i = 0; i < n; i++) {
              wire[i] = serializer.serialize("bench.frames", frames[i]);
            }
          };
      Runnable plainRead =
          () -> {
            try {
              for (int i = 0; i < n; i++) {
                dec[0] = DecoderFactory.get().binaryDecoder(plain[i], dec[0]);
                reader.read(null, dec[0]);
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          };
      Runnable serdeRead =
          () -> {
            for (int i = 0; i < n; i++) {
              deserializer.deserialize("bench.frames", wire[i]);
            }
          };
      long requestsBefore = registry.requestCount();
      report("serialize", n, plainWrite, serdeWrite);
      report("deserialize", n, plainRead, serdeRead);
      System.out.printf(
          "registry requests during %d rounds of %d records each way: %d%n",
          7, n, registry.requestCount() - requestsBefore);
      System.out.printf(
          "record size: %d bytes plain, %d bytes on the wire%n", plain[0].length, wire[0].length);
    }
  }

  /**
   * Alternates baseline and candidate rounds (so drift hits both) and compares their median rounds.
   */
  private static void report(String what, int n, Runnable baseline, Runnable candidate) {
    int rounds = 7;
    double[] base = new double[rounds];
    double[] cand = new double[rounds];
    baseline.run();
    candidate.run(); // warm-up, and the one registry request per schema
    for (int r = 0; r < rounds; r++) {
      base[r] = time(baseline);
      cand[r] = time(candidate);
    }
    Arrays.sort(base);
    Arrays.sort(cand);
    double b = base[rounds / 2];
    double c = cand[rounds / 2];
    System.out.printf(
        "%-11s plain Avro %,9.0f rec/s   serde %,9.0f rec/s   serde/plain time ratio %.2f%n",
        what, n / b, n / c, c / b);
  }

  private static double time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }
}
