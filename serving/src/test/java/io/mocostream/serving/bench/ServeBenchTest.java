package io.mocostream.serving.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.serving.TestModels;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The serve bench, short and with the tiny encoder: it runs, swaps, and reports in the documented
 * form.
 */
@ExtendWith(KafkaClusterExtension.class)
class ServeBenchTest {

  @Test
  void aShortRunSwapsWithoutFailures(KafkaCluster cluster) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ServeBench.Result r =
        ServeBench.run(
            cluster.bootstrapServers(),
            cluster.registryUrl(),
            TestModels.ARCH.toString(),
            3,
            4,
            new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String[] lines = bytes.toString(StandardCharsets.UTF_8).trim().split("\n");
    String last = lines[lines.length - 1];
    assertTrue(
        last.matches("embed_rps=\\d+\\.\\d p99_ms=\\d+\\.\\d swap_max_ms=\\d+\\.\\d failed=\\d+"),
        last);
    assertEquals(r.lastLine(), last);
    assertEquals(0, r.failed(), String.join("\n", lines));
    assertEquals(
        0, r.staleAfterSwap(), "requests started after the swap were answered by version 1");
    assertTrue(
        r.inFlightDuringSwap() > 0, "no request overlapped the swap: " + String.join("\n", lines));
    assertTrue(r.swapMaxMs() > 0 && r.p99Ms() > 0 && r.embedRps() > 0, last);
  }

  @Test
  void figuresFollowTheirDefinitions() {
    // Four requests (ms): [0,10] [5,30] [20,21] [40,45]; the swap lasts from 25 to 35 ms.
    long ms = 1_000_000;
    List<ServeBench.Sample> samples =
        List.of(
            new ServeBench.Sample(0, 10 * ms, 200, 1),
            new ServeBench.Sample(5 * ms, 30 * ms, 200, 1),
            new ServeBench.Sample(20 * ms, 21 * ms, 503, -1),
            new ServeBench.Sample(40 * ms, 45 * ms, 200, 1));
    ServeBench.Result r = ServeBench.figures(samples, 25 * ms, 35 * ms);
    assertEquals(1, r.failed());
    assertEquals(1, r.inFlightDuringSwap(), "only [5,30] overlaps [25,35]");
    assertEquals(25.0, r.swapMaxMs(), 1e-9);
    assertEquals(25.0, r.p99Ms(), 1e-9, "nearest rank: the largest of four");
    assertEquals(3 / 0.045, r.embedRps(), 1e-6, "three 200s over 45 ms");
    assertEquals(
        1, r.staleAfterSwap(), "[40,45] started after the swap but was answered by version 1");
    assertEquals(10.0, r.swapMs(), 1e-9);
  }
}
