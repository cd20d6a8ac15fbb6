package io.mocostream.cli;

import io.mocostream.dashboard.Dashboard;
import io.mocostream.dashboard.DashboardOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "dashboard",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "A live web page of the pipeline, from what the topics hold (start it any time, against any",
      "cluster): loss and images/s per step, kNN per verified version against the raw-pixel and random-init",
      "baselines, consumer lag, dead letters by reason, the versions table, the newest frames with augmented",
      "views, and a nearest-neighbour strip under the newest version."
    })
final class DashboardCli implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "" + DashboardOptions.DEFAULT_PORT,
      description = "HTTP port (default ${DEFAULT-VALUE}; 0 = any free port).")
  int port;

  @Option(
      names = "--host",
      paramLabel = "ADDRESS",
      defaultValue = DashboardOptions.DEFAULT_HOST,
      description =
          "Bind address (default ${DEFAULT-VALUE}; the page has no login, so keep it on loopback).")
  String host;

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description =
          "Model(s) to follow (repeatable; default: every model the step log names, up to "
              + DashboardOptions.MAX_MODELS
              + ").")
  List<String> models = new ArrayList<>();

  @Option(
      names = "--trust",
      defaultValue = "keys/model-signing.pub",
      paramLabel = "FILE",
      description = {
        "Trusted public key(s): a version is shown only when its signature verifies with one",
        "(default ${DEFAULT-VALUE}, the trainer's key in this directory)."
      })
  Path trust;

  @Option(
      names = "--steps-topic",
      paramLabel = "TOPIC",
      defaultValue = "trainer.steps",
      description = "Step log (default ${DEFAULT-VALUE}).")
  String stepsTopic;

  @Option(
      names = "--versions-topic",
      paramLabel = "TOPIC",
      defaultValue = "encoder.versions",
      description = "Model topic (default ${DEFAULT-VALUE}).")
  String versionsTopic;

  @Option(
      names = "--dlq-topic",
      paramLabel = "TOPIC",
      defaultValue = "frames.dlq",
      description = "Dead-letter topic (default ${DEFAULT-VALUE}).")
  String dlqTopic;

  @Option(
      names = "--frames-topic",
      paramLabel = "TOPIC",
      description = "Frames to show (default: the topic the step log names).")
  String framesTopic;

  @Option(
      names = "--probe",
      defaultValue = "fashion-mnist",
      paramLabel = "SPEC",
      description =
          "Labelled probe for the baselines and neighbours: fashion-mnist, IMAGES,LABELS (IDX), or '' for "
              + "none (default ${DEFAULT-VALUE}).")
  String probe;

  @Option(
      names = "--probe-bank",
      paramLabel = "N",
      defaultValue = "2000",
      description = "Probe bank images (default ${DEFAULT-VALUE}).")
  int probeBank;

  @Option(
      names = "--probe-queries",
      paramLabel = "N",
      defaultValue = "500",
      description = "Probe queries (default ${DEFAULT-VALUE}).")
  int probeQueries;

  @Override
  public Integer call() throws Exception {
    DashboardOptions o =
        DashboardOptions.defaults(cluster.bootstrap, cluster.registry, trust)
            .withClients(cluster.clients())
            .withListen(host, port)
            .withTopics(stepsTopic, versionsTopic, dlqTopic, framesTopic)
            .withModels(models)
            .withProbe(probe, probeBank, probeQueries);
    Dashboard.run(o, System.out);
    return 0;
  }
}
