package io.mocostream.encoder.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The bench runs end to end on a small payload (its numbers are not asserted: speed is measured by
 * running it, e.g. {@code -Dmocostream.bench.bytes=44700000}).
 */
@ExtendWith(KafkaClusterExtension.class)
class PublishBenchTest {

  @Test
  void benchPublishesVerifiesAndReportsTheMedian(KafkaCluster cluster) {
    int bytes = Integer.getInteger("mocostream.bench.bytes", 3_000_000);
    int versions = Integer.getInteger("mocostream.bench.versions", 2);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String last =
        PublishBench.run(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            bytes,
            versions,
            new PrintStream(out, true, StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    List<String> lines = text.lines().toList();
    assertEquals(last, lines.get(lines.size() - 1));
    assertTrue(last.matches("publish_to_subscriber_ms=\\d+\\.\\d"), last);
    assertEquals(versions + 1, lines.stream().filter(l -> l.startsWith("version=")).count(), text);
  }

  @Test
  void medianOfOddAndEvenCounts() {
    assertEquals(2.0, PublishBench.median(List.of(3.0, 1.0, 2.0)));
    assertEquals(2.5, PublishBench.median(List.of(4.0, 1.0, 2.0, 3.0)));
  }
}
