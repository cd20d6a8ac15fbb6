package io.mocostream.cli;

import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.trainer.stream.Replayer;
import io.mocostream.trainer.stream.TrainerConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Rebuild a published version from the step log and compare its SHA-256.",
      "Last line: replayed_sha256=<x> published_sha256=<y> match=<true|false>; exit code 5 when they differ."
    })
final class ReplayCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "NAME",
      description = "The model whose version to rebuild.")
  String model;

  @Option(
      names = "--to-version",
      required = true,
      paramLabel = "V",
      description = "The published version to rebuild from the step log and compare.")
  long version;

  @Option(
      names = "--trust",
      defaultValue = "keys/" + ModelSigning.PUBLIC_KEY_FILE,
      paramLabel = "FILE",
      description = {
        "Trusted public key(s) the version's manifest must verify under: its digest and config",
        "fingerprint are what the rebuild is held to (default ${DEFAULT-VALUE})."
      })
  Path trust;

  @Option(
      names = {"-D", "--set"},
      paramLabel = "KEY=VALUE",
      description = "Topic names if the run changed them, e.g. -D trainer.topic.steps=my.steps.")
  Map<String, String> topics = new HashMap<>();

  @Override
  public Integer call() {
    Map<String, String> s = new HashMap<>(topics);
    s.put(TrainerConfig.MODEL_NAME_CONFIG, model);
    Replayer.Result result =
        Replayer.replay(
            cluster.bootstrap,
            cluster.registry,
            TrainerConfig.of(s),
            version,
            TrustedKeys.load(trust),
            System.err,
            cluster.clients());
    System.out.println(result.line());
    return result.match() ? ExitCode.OK.code : ExitCode.CHECK_FAILED.code;
  }
}
