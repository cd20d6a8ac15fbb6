package io.mocostream.cli;

import io.mocostream.cli.bench.IngestBench;
import io.mocostream.cli.bench.PipelineBench;
import io.mocostream.encoder.bench.PublishBench;
import io.mocostream.producer.bench.ProduceBench;
import io.mocostream.serving.bench.ServeBench;
import io.mocostream.trainer.bench.MocoBench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks, each a ratio against a baseline run in the same process.",
      "The machines are noisy: the last line's ratio is the figure."
    },
    subcommands = {
      BenchCommand.Produce.class,
      BenchCommand.Ingest.class,
      BenchCommand.Moco.class,
      BenchCommand.Pipeline.class,
      BenchCommand.Publish.class,
      BenchCommand.Serve.class,
      BenchCommand.Learn.class,
      BenchCommand.Correlated.class
    })
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * Cluster options of the benches: an external cluster when given, else an embedded one just for
   * the run.
   */
  static class BenchCluster {
    @Option(
        names = "--bootstrap",
        description = "External broker (default: an embedded one for this run).")
    String bootstrap;

    @Option(names = "--registry", description = "Registry of the external cluster.")
    String registry;
  }

  @Command(
      name = "produce",
      mixinStandardHelpOptions = true,
      description = {
        "Our producer path (Avro, registry, idempotent acks=all) against Kafka's ProducerPerformance",
        "with the same record size, acks and batching. Last line: producer_vs_kafka_perf=<ratio>."
      })
  static final class Produce extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--record-bytes",
        defaultValue = "" + ProduceBench.DEFAULT_RECORD_BYTES,
        description = "Bytes per record (default ${DEFAULT-VALUE}).")
    int recordBytes;

    @Option(
        names = "--count",
        defaultValue = "" + ProduceBench.DEFAULT_COUNT,
        description = "Records per run (default ${DEFAULT-VALUE}).")
    int count;

    @Override
    public Integer call() {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        ProduceBench.run(c.bootstrap, c.registryUrl, recordBytes, count, System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "ingest",
      mixinStandardHelpOptions = true,
      description = {
        "The same frames straight from our producer and through ingest (decode, resize, dedup, re-encode,",
        "exactly_once_v2), in one process. Last line: ingest_frames_s=<x> producer_frames_s=<y> ingest_vs_producer=<x/y>."
      })
  static final class Ingest extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--frames",
        defaultValue = "GREY28",
        description =
            "GREY28 (28x28 raw grey) or JPEG640 (640x480 JPEG camera frames); default ${DEFAULT-VALUE}.")
    IngestBench.Frames frames;

    @Option(
        names = "--count",
        description = "Frames per run (default 100000 for GREY28, 1500 for JPEG640).")
    Integer count;

    @Option(
        names = "--rounds",
        defaultValue = "2",
        description = "Rounds of each side, alternating (default ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        IngestBench.run(
            c.bootstrap,
            c.registryUrl,
            frames,
            count == null ? IngestBench.defaultCount(frames) : count,
            rounds,
            System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "moco",
      mixinStandardHelpOptions = true,
      description = {
        "A full MoCo step against a plain forward+backward+SGD step of the same encoder.",
        "Then the MoCo steps again while a separate process keeps one core busy.",
        "Last line: moco_img_s=<a> plain_img_s=<b> moco_vs_plain=<ratio> gflops=<c> contended_vs_alone=<d>."
      })
  static final class Moco implements Callable<Integer> {
    @Option(
        names = "--arch",
        defaultValue = "resnet18-cifar",
        description = "Encoder (default ${DEFAULT-VALUE}).")
    String arch;

    @Option(
        names = "--batch",
        defaultValue = "64",
        description = "Images per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(
        names = "--steps",
        defaultValue = "30",
        description = "Timed steps per run (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(
        names = "--device",
        defaultValue = "cpu",
        description = "cpu or gpu (default ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() {
      MocoBench.run(arch, batch, steps, device, System.out);
      return 0;
    }
  }

  @Command(
      name = "pipeline",
      mixinStandardHelpOptions = true,
      description = {
        "The trainer fed from Kafka (consume, decode, augment, step) against the same steps on",
        "tensors prepared in memory. Last line: pipeline_efficiency=<ratio>."
      })
  static final class Pipeline extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--arch",
        defaultValue = "resnet18-cifar,channels=1,size=28",
        description = "Encoder (default ${DEFAULT-VALUE}).")
    String arch;

    @Option(
        names = "--batch",
        defaultValue = "64",
        description = "Images per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(
        names = "--steps",
        defaultValue = "30",
        description = "Timed steps per run (default ${DEFAULT-VALUE}).")
    int steps;

    @Override
    public Integer call() throws Exception {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        PipelineBench.run(c.bootstrap, c.registryUrl, arch, batch, steps, System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "learn",
      mixinStandardHelpOptions = true,
      description = {
        "Full Fashion-MNIST streamed through Kafka into the trainer (the demo's preset) for M minutes;",
        "kNN top-1 on the demo's probe per version (curve: CSV + PNG). Last line:",
        "knn_top1=<x> raw_pixels=<y> random_init=<z> steps=<n> img_s=<r>."
      })
  static final class Learn extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--minutes",
        defaultValue = "6",
        description = "Training time (default ${DEFAULT-VALUE}).")
    double minutes;

    @Option(
        names = "--out",
        defaultValue = "bench-learn",
        description = "Curve directory (default ${DEFAULT-VALUE}).")
    java.nio.file.Path out;

    @Option(
        names = {"-D", "--set"},
        paramLabel = "KEY=VALUE",
        description = "Any trainer or moco setting over the preset.")
    java.util.Map<String, String> extra = new java.util.HashMap<>();

    @Override
    public Integer call() throws Exception {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        io.mocostream.cli.bench.LearnBench.run(
            c.bootstrap, c.registryUrl, minutes, extra, out, System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "correlated",
      mixinStandardHelpOptions = true,
      description = {
        "MoCo on a correlated feed (produce --correlated: bursts from a few cameras) against the same",
        "Fashion-MNIST as it is, M minutes per run; the replay buffer and same-source masking each on and off.",
        "Last line: iid_knn=<a> correlated_knn=<b> correlated_vs_iid=<b/a>."
      })
  static final class Correlated extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--minutes",
        defaultValue = "6",
        description = "Training time of each run (default ${DEFAULT-VALUE}).")
    double minutes;

    @Option(
        names = "--burst",
        defaultValue = "8",
        description = "Frames per item (default ${DEFAULT-VALUE}).")
    int burst;

    @Option(
        names = "--cameras",
        defaultValue = "4",
        description = "Cameras (default ${DEFAULT-VALUE}).")
    int cameras;

    @Option(
        names = "--buffer",
        defaultValue = "" + io.mocostream.cli.bench.CorrelatedBench.DEFAULT_BUFFER,
        description = "Replay buffer size of the runs with the buffer (default ${DEFAULT-VALUE}).")
    int buffer;

    @Option(
        names = "--runs",
        defaultValue = "all",
        description = "all, or the correlated run to compare: plain, mask, buffer, both.")
    String runs;

    @Option(
        names = {"-D", "--set"},
        paramLabel = "KEY=VALUE",
        description = "Any trainer or moco setting over the preset.")
    java.util.Map<String, String> extra = new java.util.HashMap<>();

    @Override
    public Integer call() throws Exception {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        io.mocostream.cli.bench.CorrelatedBench.run(
            c.bootstrap, c.registryUrl, minutes, burst, cameras, buffer, runs, extra, System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      description = {
        "Time from a version's trigger until a subscriber holds the verified weights (ResNet-18 size,",
        "loopback). Last line: publish_to_subscriber_ms=<x>."
      })
  static final class Publish extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--payload-bytes",
        defaultValue = "" + PublishBench.RESNET18_PAYLOAD_BYTES,
        description = "Bytes of weights per version (default ${DEFAULT-VALUE}, a ResNet-18).")
    int payloadBytes;

    @Option(
        names = "--versions",
        defaultValue = "" + PublishBench.DEFAULT_VERSIONS,
        description = "Versions published and timed (default ${DEFAULT-VALUE}).")
    int versions;

    @Override
    public Integer call() {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        PublishBench.run(c.bootstrap, c.registryUrl, payloadBytes, versions, System.out);
      }
      return 0;
    }
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = {
        "Embedding requests against the HTTP service while a new version is published mid-run.",
        "Last line: embed_rps=<x> p99_ms=<y> swap_max_ms=<z> failed=<n>."
      })
  static final class Serve extends BenchCluster implements Callable<Integer> {
    @Option(
        names = "--concurrency",
        defaultValue = "" + ServeBench.DEFAULT_CONCURRENCY,
        description = "Clients sending requests at once (default ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(
        names = "--seconds",
        defaultValue = "" + ServeBench.DEFAULT_SECONDS,
        description = "Length of the run (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(
        names = "--arch",
        defaultValue = ServeBench.DEFAULT_ARCH,
        description = "Encoder (default ${DEFAULT-VALUE}).")
    String arch;

    @Override
    public Integer call() {
      try (LocalCluster c = LocalCluster.startOrUse(bootstrap, registry)) {
        ServeBench.Result r =
            ServeBench.run(c.bootstrap, c.registryUrl, arch, concurrency, seconds, System.out);
        return r.failed() == 0 ? ExitCode.OK.code : ExitCode.CHECK_FAILED.code;
      }
    }
  }
}
