package io.mocostream.cli;

import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.trainer.eval.Evaluation;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Score an encoder by weighted kNN top-1 on a labelled set.",
      "k=200, τ=0.1 on the backbone's features; raw pixels and the same architecture at random init as baselines.",
      "Last line: knn_top1=<x> raw_pixels=<y> random_init=<z>."
    })
final class EvalCli implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model-file",
      paramLabel = "F",
      description =
          "An encoder file (architecture + weights), as " + "export writes it; or else --model.")
  Path modelFile;

  @Mixin VersionFetch fetch;

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--idx",
      paramLabel = "IMAGES,LABELS",
      split = ",",
      description = "Query set (and bank, unless --train-idx); default Fashion-MNIST's test split.")
  Path[] idx;

  @Option(
      names = "--train-idx",
      paramLabel = "IMAGES,LABELS",
      split = ",",
      description = "Memory bank set.")
  Path[] trainIdx;

  @Option(
      names = "--bank",
      defaultValue = "" + Evaluation.DEFAULT_BANK,
      description = "Bank images (default ${DEFAULT-VALUE}).")
  int bank;

  @Option(
      names = "--queries",
      defaultValue = "" + Evaluation.DEFAULT_QUERIES,
      description = "Query images (default ${DEFAULT-VALUE}).")
  int queries;

  @Override
  public Integer call() throws Exception {
    Evaluation.Options options = Evaluation.Options.defaults(modelFile).withSizes(bank, queries);
    if (idx != null) {
      options = options.withIdx(pair(idx, "--idx")[0], pair(idx, "--idx")[1]);
    }
    if (trainIdx != null) {
      options =
          options.withBankIdx(pair(trainIdx, "--train-idx")[0], pair(trainIdx, "--train-idx")[1]);
    }
    Evaluation.Result result;
    if ((modelFile == null) == (fetch.model == null)) {
      throw new ParameterException(
          spec.commandLine(), "give --model-file F or --model NAME (one of them)");
    }
    if (modelFile != null) {
      result = Evaluation.run(options);
    } else {
      VerifiedVersion v = fetch.fetch(cluster);
      System.out.println(
          "model "
              + v.model()
              + " version "
              + v.version()
              + " (step "
              + v.manifest().getStep()
              + ")");
      try (Encoder encoder =
          Encoder.load(Architecture.fromAvro(v.manifest().getArchitecture()), v.payload())) {
        result = Evaluation.run(encoder, options);
      }
    }
    System.out.println(result.report());
    return 0;
  }

  private Path[] pair(Path[] files, String option) {
    if (files.length != 2) {
      throw new ParameterException(
          spec.commandLine(), option + " takes IMAGES,LABELS: two files, got " + files.length);
    }
    return files;
  }
}
