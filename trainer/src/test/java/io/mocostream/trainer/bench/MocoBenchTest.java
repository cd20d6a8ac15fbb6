package io.mocostream.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The benchmark runs end to end on a tiny encoder and reports consistent figures (no timing
 * assertions).
 */
class MocoBenchTest {

  private static final Pattern SUMMARY =
      Pattern.compile(
          "moco_img_s=([0-9.]+) plain_img_s=([0-9.]+) moco_vs_plain=([0-9.]+) gflops=([0-9.]+) contended_vs_alone=([0-9.]+)");

  @Test
  void printsTheSummaryLineLast() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    String summary = MocoBench.run("resnet18-narrow,width=16,size=8", 4, 2, 1, 64, 2, "cpu", out);
    String[] lines = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
    assertEquals(summary, lines[lines.length - 1]);
    Matcher m = SUMMARY.matcher(summary);
    assertTrue(m.matches(), summary);
    double moco = Double.parseDouble(m.group(1));
    double plain = Double.parseDouble(m.group(2));
    assertEquals(plain / moco, Double.parseDouble(m.group(3)), 0.01);
    assertTrue(Double.parseDouble(m.group(4)) > 0);
    assertTrue(
        Double.parseDouble(m.group(5)) > 0,
        "the contended run (next to a busy process) ran: " + summary);
    assertTrue(lines[0].contains("threads="), lines[0]);
  }

  @Test
  void gpuWithoutAGpuFailsClearly() {
    Assumptions.assumeTrue(Engine.getInstance().getGpuCount() == 0, "a GPU is present");
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> MocoBench.run("resnet18-narrow,width=4,size=8", 4, 1, "gpu", System.out));
    assertTrue(e.getMessage().contains("sees no GPU"), e.getMessage());
  }
}
