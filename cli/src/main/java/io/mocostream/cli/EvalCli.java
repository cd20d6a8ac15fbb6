package io.mocostream.cli;

import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.trainer.eval.Evaluation;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Score an encoder by weighted kNN top-1 on a labelled set.",
        "k=200, τ=0.1 on the backbone's features; raw pixels and the same architecture at random init as baselines.",
        "Last line: knn_top1=<x> raw_pixels=<y> random_init=<z>."})
final class EvalCli implements Callable<Integer> {
  @ArgGroup(exclusive = true, multiplicity = "1")
  Which which;

  static final class Which {
    @Option(names = "--model-file", paramLabel = "F", description = "An encoder file (architecture + weights).")
    Path modelFile;

    @Option(names = "--model", paramLabel = "NAME", description = "A model on the model topic (verified).")
    String model;
  }

  @Option(names = "--version", paramLabel = "V", description = "With --model: this version (default: the newest).")
  Long version;

  @Option(names = "--trust", defaultValue = "keys", description = "With --model: trusted public key(s) (default ${DEFAULT-VALUE}).")
  Path trust;

  @Option(names = "--topic", defaultValue = "encoder.versions", description = "With --model: model topic.")
  String topic;

  @Mixin ClusterOptions cluster;

  @Option(names = "--idx", paramLabel = "IMAGES,LABELS", split = ",",
      description = "Query set (and bank, unless --train-idx); default Fashion-MNIST's test split.")
  Path[] idx;

  @Option(names = "--train-idx", paramLabel = "IMAGES,LABELS", split = ",", description = "Memory bank set.")
  Path[] trainIdx;

  @Option(names = "--bank", defaultValue = "" + Evaluation.DEFAULT_BANK, description = "Bank images (default ${DEFAULT-VALUE}).")
  int bank;

  @Option(names = "--queries", defaultValue = "" + Evaluation.DEFAULT_QUERIES, description = "Query images (default ${DEFAULT-VALUE}).")
  int queries;

  @Override
  public Integer call() throws Exception {
    Evaluation.Options options = Evaluation.Options.defaults(which.modelFile).withSizes(bank, queries);
    if (idx != null) {
      options = options.withIdx(pair(idx, "--idx")[0], pair(idx, "--idx")[1]);
    }
    if (trainIdx != null) {
      options = options.withBankIdx(pair(trainIdx, "--train-idx")[0], pair(trainIdx, "--train-idx")[1]);
    }
    Evaluation.Result result;
    if (which.modelFile != null) {
      result = Evaluation.run(options);
    } else {
      VerifiedVersion v = fetch();
      System.out.println("model " + which.model + " version " + v.version() + " (step " + v.manifest().getStep() + ")");
      try (Encoder encoder = Encoder.load(Architecture.fromAvro(v.manifest().getArchitecture()), v.payload())) {
        result = Evaluation.run(encoder, options);
      }
    }
    System.out.println(result.report());
    return 0;
  }

  private static Path[] pair(Path[] files, String option) {
    if (files.length != 2) {
      throw new IllegalArgumentException(option + " takes IMAGES,LABELS: two files, got " + files.length);
    }
    return files;
  }

  /** The requested (or newest) verified version of the model from the model topic. */
  private VerifiedVersion fetch() {
    VerifiedVersion[] found = {null};
    try (VersionSubscriber s = VersionSubscriber.builder(cluster.bootstrap, cluster.registry, which.model)
        .topic(topic).trustedKeys(TrustedKeys.load(trust))
        .startPosition(version == null ? StartPosition.NEWEST : StartPosition.EARLIEST)
        .listener(new VersionListener() {
          @Override
          public void onAccepted(VerifiedVersion v) {
            if (version == null || v.version() == version) {
              found[0] = v;
            }
          }
        }).build()) {
      // Newest: the first accepted version is it. A given version: read until it shows up.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (found[0] == null && System.nanoTime() < deadline) {
        s.poll(Duration.ofMillis(500));
      }
    }
    if (found[0] == null) {
      throw new IllegalArgumentException("model " + which.model + " has no verified version"
          + (version == null ? "" : " " + version) + " on " + topic + " at " + cluster.bootstrap);
    }
    return found[0];
  }
}
