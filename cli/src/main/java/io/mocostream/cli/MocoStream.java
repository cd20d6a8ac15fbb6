package io.mocostream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mocostream} command: one entry point, a subcommand per part of the pipeline. */
@Command(
    name = "mocostream",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Streaming continual pretraining: Kafka frames into MoCo v2 steps, encoder versions on a model topic.",
    subcommands = {
      DemoCommand.class,
      UpCommand.class,
      ProduceCli.class,
      IngestCli.class,
      TrainCommand.class,
      SubscribeCli.class,
      ReplayCommand.class,
      EvalCli.class,
      ExportCommand.class,
      ServeCli.class,
      EmbedStreamCli.class,
      DashboardCli.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class MocoStream implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    // Before any engine starts: PyTorch's threads follow the container's CPU quota unless -D... names a count.
    io.mocostream.vision.model.ComputeThreads.configure();
    int rc = new CommandLine(new MocoStream())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(new ErrorHandler())
        .execute(args);
    System.exit(rc);
  }
}
