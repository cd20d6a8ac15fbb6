package io.mocostream.cli;

import io.mocostream.ingest.IngestCommand;
import io.mocostream.ingest.IngestOptions;
import io.mocostream.ingest.Normalizer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Validate, resize and de-duplicate raw frames for training (Kafka Streams, exactly_once_v2).",
      "Every raw frame becomes a training frame (shorter side --size, aspect kept, never upscaled), a counted",
      "near-duplicate drop, or a dead letter with its reason. Start more instances with the same",
      "--application-id to scale, up to the input's partition count."
    })
final class IngestCli implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin MetricsOptions metrics;

  @Option(
      names = "--in",
      defaultValue = IngestOptions.DEFAULT_IN_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String in;

  @Option(
      names = "--out",
      defaultValue = IngestOptions.DEFAULT_OUT_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String out;

  @Option(
      names = "--dlq",
      defaultValue = IngestOptions.DEFAULT_DLQ_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String dlq;

  @Option(
      names = "--size",
      defaultValue = "" + IngestOptions.DEFAULT_SIZE,
      description = "Shorter side of the training frames in pixels (default ${DEFAULT-VALUE}).")
  int size;

  @Option(
      names = "--format",
      defaultValue = "RAW",
      description = "RAW (RAW_GREY/RAW_RGB) or PNG (default ${DEFAULT-VALUE}).")
  Normalizer.OutputFormat format;

  @Option(
      names = "--dedup-distance",
      defaultValue = "" + IngestOptions.Dedup.DEFAULT_MAX_DISTANCE,
      description =
          "dHash bits (of 64) at or below which a frame is a near-duplicate (default ${DEFAULT-VALUE}).")
  int dedupDistance;

  @Option(
      names = "--dedup-window",
      defaultValue = "" + IngestOptions.Dedup.DEFAULT_WINDOW,
      description = "Kept frames per source compared against (default ${DEFAULT-VALUE}).")
  int dedupWindow;

  @Option(names = "--no-dedup", description = "Keep near-duplicates.")
  boolean noDedup;

  @Option(
      names = "--application-id",
      defaultValue = IngestOptions.DEFAULT_APPLICATION_ID,
      description =
          "Kafka Streams application id: instances sharing it share the work (default ${DEFAULT-VALUE}).")
  String applicationId;

  @Option(
      names = "--threads",
      defaultValue = "1",
      description = "Stream threads in this instance (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--state-dir",
      description = "Kafka Streams state directory (default: Kafka Streams' own).")
  Path stateDir;

  @Option(
      names = "--replication-factor",
      defaultValue = "-1",
      description = "Of the topics ingest creates (-1: the broker's default).")
  int replicationFactor;

  @Override
  public Integer call() throws Exception {
    IngestOptions o =
        IngestOptions.defaults(cluster.bootstrap, cluster.registry)
            .withTopics(in, out, dlq)
            .withApplication(applicationId, stateDir, replicationFactor, threads)
            .withImages(size, format)
            .withDedup(new IngestOptions.Dedup(!noDedup, dedupDistance, dedupWindow));
    return IngestCommand.run(o, metrics.endpoint(), System.out);
  }
}
