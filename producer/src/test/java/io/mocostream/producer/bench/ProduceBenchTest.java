package io.mocostream.producer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A small bench run: both sides publish, the output has the agreed last line. No speed is asserted.
 */
@ExtendWith(KafkaClusterExtension.class)
class ProduceBenchTest {

  @Test
  void recordSizeMatchesTheBaselineExactly() {
    for (int bytes : new int[] {100, 3000, 100_000}) {
      assertEquals(
          bytes, ProduceBench.serializedSize(ProduceBench.dataBytesFor(bytes, 200_000), 100_000));
    }
  }

  @Test
  void parsesProducerPerformanceTotals() {
    String out =
        "1000 records sent, 200.0 records/sec (0.57 MB/sec), 3.1 ms avg latency, 120.0 ms max latency.\n"
            + "5000 records sent, 48123.4 records/sec (137.68 MB/sec), 30.12 ms avg latency, 250.00 ms max latency, "
            + "25 ms 50th, 60 ms 95th, 80 ms 99th, 90 ms 99.9th.\n";
    assertEquals(Optional.of(48123.4), ProduceBench.parseTotalRate(out));
    assertEquals(Optional.empty(), ProduceBench.parseTotalRate("nothing here"));
  }

  @Test
  void smallRunEndsWithTheRatioLine(KafkaCluster cluster) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    String last =
        ProduceBench.run(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            3000,
            3000,
            new PrintStream(buf, true, StandardCharsets.UTF_8));
    String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\\R");
    assertEquals(last, lines[lines.length - 1]);
    assertTrue(last.matches("producer_vs_kafka_perf=\\d+\\.\\d{3}"), last);
    double ratio = Double.parseDouble(last.substring(last.indexOf('=') + 1));
    assertTrue(ratio > 0, last);
    assertTrue(
        buf.toString(StandardCharsets.UTF_8).contains("round 2: mocostream producer"),
        buf::toString);
  }
}
