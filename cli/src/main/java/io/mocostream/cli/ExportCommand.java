package io.mocostream.cli;

import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.trainer.eval.EncoderFile;
import io.mocostream.vision.model.Architecture;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Write a verified version from the model topic to an encoder file.",
      "The file (architecture + weights) is what eval --model-file reads."
    })
final class ExportCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin VersionFetch fetch;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "The encoder file to write.")
  Path out;

  @Override
  public Integer call() throws Exception {
    VerifiedVersion v = fetch.fetch(cluster);
    new EncoderFile(Architecture.fromAvro(v.manifest().getArchitecture()), v.payload()).write(out);
    System.out.println(
        "wrote "
            + out
            + ": model "
            + v.model()
            + " version "
            + v.version()
            + " (step "
            + v.manifest().getStep()
            + ", sha256 "
            + v.manifest().getPayloadSha256()
            + ")");
    return 0;
  }
}
