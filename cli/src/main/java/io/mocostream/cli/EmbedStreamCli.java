package io.mocostream.cli;

import io.mocostream.serving.streams.EmbedOptions;
import io.mocostream.serving.streams.EmbedStreamCommand;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "embed-stream",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Embed every frame of a topic with the current encoder (Kafka Streams, exactly_once_v2).",
      "Writes Embedding records (vector + encoder version) under the frame's key; new versions are picked up",
      "without a restart; frames that cannot be embedded go to the dead-letter topic with the reason."
    })
final class EmbedStreamCli implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin MetricsOptions metrics;
  @Mixin ServeCli.PolicyOptions policy;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "NAME",
      description = "The model to embed with.")
  String model;

  @Option(
      names = "--in",
      defaultValue = EmbedOptions.DEFAULT_IN_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String in;

  @Option(
      names = "--out",
      defaultValue = EmbedOptions.DEFAULT_OUT_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String out;

  @Option(
      names = "--dlq",
      defaultValue = EmbedOptions.DEFAULT_DLQ_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String dlq;

  @Mixin ModelSource source;

  @Mixin ServeCli.VersionFloorOptions floor;

  @Override
  public Integer call() throws Exception {
    EmbedOptions o =
        EmbedOptions.defaults(cluster.bootstrap, cluster.registry, model)
            .withTopics(in, out, dlq)
            .withModelTopic(source.topic, source.trust)
            .withPolicy(policy.policy())
            .withVersionFloor(floor.highWater, floor.maxAge())
            // --client-config: the Streams app, the live encoder's consumer and the admin client
            // all take it from here
            .withStreamsConfig(strings(cluster.clients().streams(Map.of())));
    return EmbedStreamCommand.run(o, metrics.endpoint(), System.out);
  }

  private static Map<String, String> strings(Map<String, Object> m) {
    Map<String, String> out = new HashMap<>();
    m.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }
}
