package io.mocostream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mocostream train --device gpu} on a machine without a GPU (or with the CPU natives of the
 * default build) must stop with one line that says why and what to do, not a native stack trace or
 * a silent CPU run.
 */
@ExtendWith(KafkaClusterExtension.class)
class TrainGpuTest {
  @Test
  void gpuWithoutAGpuFailsWithAClearMessage(KafkaCluster cluster, @TempDir Path keys) {
    Assumptions.assumeTrue(Engine.getInstance().getGpuCount() == 0, "a GPU is present");
    StringWriter err = new StringWriter();
    // The same command line object and error handler as MocoStream.main, without its System.exit.
    CommandLine cli = MocoStream.commandLine().setErr(new PrintWriter(err, true));
    int rc =
        cli.execute(
            "train",
            "--model",
            "gpu-check",
            "--device",
            "gpu",
            "--max-steps",
            "1",
            "--topic",
            "gpu-check.frames",
            "--keys-dir",
            keys.toString(),
            "--bootstrap",
            cluster.bootstrapServers(),
            "--registry",
            cluster.registryUrl(),
            "-D",
            "trainer.topic.steps=gpu-check.steps",
            "-D",
            "trainer.topic.state=gpu-check.state",
            "-D",
            "trainer.topic.versions=gpu-check.versions",
            "-D",
            "trainer.topic.dlq=gpu-check.dlq");
    String text = err.toString();
    assertEquals(ExitCode.FAILED.code, rc, text);
    assertTrue(
        text.startsWith("mocostream train: trainer.device=gpu but the PyTorch engine sees no GPU"),
        text);
    assertTrue(text.contains("--device cpu"), text);
    assertTrue(text.lines().count() <= 2, "one clear line, no stack trace:\n" + text);
  }
}
