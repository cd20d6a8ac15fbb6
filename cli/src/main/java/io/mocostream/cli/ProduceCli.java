package io.mocostream.cli;

import io.mocostream.frames.FrameLimits;
import io.mocostream.producer.ProduceCommand;
import io.mocostream.producer.ProduceOptions;
import io.mocostream.producer.ProduceSummary;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.producer.source.CorrelatedSource;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "produce",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Publish images to a frames topic.",
      "ImageFrame records keyed by source id, idempotent, acks=all.",
      "Sources: dir:PATH (--watch for an upload folder), idx:IMAGES[,LABELS], synthetic[:CLASSES], http:[HOST:]PORT",
      "(an upload endpoint on 127.0.0.1 unless HOST is given; bearer-token auth when MOCOSTREAM_UPLOAD_TOKEN is set).",
      "Bad files are refused before publishing, with the file and the reason; the summary counts them."
    })
final class ProduceCli implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Mixin MetricsOptions metrics;

  @Option(
      names = "--source",
      required = true,
      paramLabel = "SOURCE",
      description =
          "Where the images come from: dir:PATH, idx:IMAGES[,LABELS], synthetic[:CLASSES], http:[HOST:]PORT.")
  String source;

  @Option(
      names = "--topic",
      defaultValue = ProduceOptions.DEFAULT_TOPIC,
      description = "Default ${DEFAULT-VALUE}.")
  String topic;

  @Option(
      names = "--source-id",
      paramLabel = "ID",
      description = "Record key (default: from the source).")
  String sourceId;

  @Option(
      names = "--rate",
      defaultValue = "0",
      paramLabel = "IMG_PER_S",
      description = "0 = as fast as acked.")
  double rate;

  @Option(
      names = "--max",
      defaultValue = "0",
      paramLabel = "N",
      description = "Stop after N frames (0 = no limit).")
  long max;

  @Option(names = "--loop", description = "Start the source again when it ends.")
  boolean loop;

  @Option(names = "--watch", description = "With dir:, publish every file dropped into the folder.")
  boolean watch;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the synthetic source and of --correlated.")
  long seed;

  @Option(
      names = "--max-bytes",
      defaultValue = "" + FrameLimits.DEFAULT_MAX_BYTES,
      description = "Default ${DEFAULT-VALUE}.")
  long maxBytes;

  @Option(
      names = "--max-pixels",
      defaultValue = "" + FrameLimits.DEFAULT_MAX_PIXELS,
      description = "Default ${DEFAULT-VALUE}.")
  long maxPixels;

  @Option(
      names = "--correlated",
      description = {
        "Show each item as a burst of drifting frames (shift, scale, "
            + "brightness) from a few fixed cameras, interleaved: a correlated live feed (idx:, dir:, synthetic)."
      })
  boolean correlated;

  @Option(
      names = "--burst",
      defaultValue = "" + CorrelatedSource.DEFAULT_BURST,
      paramLabel = "FRAMES",
      description = "With --correlated: frames per item. Default ${DEFAULT-VALUE}.")
  int burst;

  @Option(
      names = "--cameras",
      defaultValue = "" + CorrelatedSource.DEFAULT_CAMERAS,
      paramLabel = "N",
      description =
          "With --correlated: cameras (source ids ID/cam-i), interleaved. Default ${DEFAULT-VALUE}.")
  int cameras;

  @Option(
      names = "--frame-interval-ms",
      defaultValue = "" + CorrelatedSource.DEFAULT_INTERVAL_MS,
      paramLabel = "MS",
      description =
          "With --correlated: capture time between a camera's frames. Default ${DEFAULT-VALUE}.")
  long frameIntervalMs;

  @Override
  public Integer call() {
    ProduceOptions opts =
        ProduceOptions.of(cluster.bootstrap, cluster.registry, source)
            .withTopic(topic)
            .withSourceId(sourceId)
            .withRate(rate)
            .withMax(max)
            .withLoop(loop)
            .withWatch(watch)
            .withSeed(seed)
            .withLimits(new FrameLimits(maxBytes, maxPixels))
            .withProducerProps(cluster.producerProps())
            .withUploadToken(System.getenv(FrameEndpoint.TOKEN_ENV));
    ProduceSummary summary =
        correlated
            ? ProduceCommand.runCorrelated(
                opts,
                new CorrelatedSource.Settings(burst, cameras, frameIntervalMs, seed),
                System.out)
            : ProduceCommand.run(opts, metrics.endpoint(), System.out);
    return summary.refused() > 0 ? 3 : 0;
  }
}
