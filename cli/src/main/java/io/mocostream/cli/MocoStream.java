package io.mocostream.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The {@code mocostream} command: one entry point, a subcommand per part of the pipeline. */
@Command(
    name = "mocostream",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description =
        "Streaming continual pretraining: Kafka frames into MoCo v2 steps, encoder versions on a model topic.",
    exitCodeListHeading = "%nExit codes:%n",
    subcommands = {
      DemoCommand.class,
      UpCommand.class,
      ProduceCli.class,
      IngestCli.class,
      TrainCommand.class,
      SubscribeCli.class,
      VersionsCommand.class,
      ReplayCommand.class,
      EvalCli.class,
      ExportCommand.class,
      ServeCli.class,
      EmbedStreamCli.class,
      DashboardCli.class,
      BenchCommand.class,
      AutoComplete.GenerateCompletion.class,
      CommandLine.HelpCommand.class
    })
public final class MocoStream implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:MOCOSTREAM_VERBOSE:-false}",
      description =
          "Log lines on the console (stderr) and no log file; without it the console shows warnings and "
              + "errors only, the rest goes to logs/mocostream.<date>.log (env MOCOSTREAM_VERBOSE, MOCOSTREAM_LOG_DIR).")
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * The command line exactly as {@link #main} runs it, without its {@code System.exit}: exit codes
   * from {@link ExitCode} (picocli's usage errors mapped to 1), logging set up from {@code
   * --verbose} before the command runs. Tests use this too.
   */
  public static CommandLine commandLine() {
    MocoStream root = new MocoStream();
    CommandLine cli =
        new CommandLine(root)
            .setCaseInsensitiveEnumValuesAllowed(true)
            .setExecutionExceptionHandler(new ErrorHandler())
            .setExitCodeExceptionMapper(t -> ExitCode.of(t).code);
    cli.getCommandSpec().usageMessage().exitCodeList(ExitCode.helpList());
    standardVersion(cli);
    cli.setExecutionStrategy(
        parsed -> {
          // --verbose is inherited: given after a subcommand it is matched there, so look along the
          // whole chain.
          boolean verbose = root.verbose;
          String command = "mocostream";
          boolean printsOnly =
              false; // help, version, completion script: nothing to log, no log file to create
          for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
              verbose = p.matchedOptionValue("--verbose", false);
            }
            command = p.commandSpec().name();
            printsOnly |=
                p.isUsageHelpRequested()
                    || p.isVersionHelpRequested()
                    || p.commandSpec().userObject() instanceof CommandLine.HelpCommand
                    || p.commandSpec().userObject() instanceof AutoComplete.GenerateCompletion;
          }
          if (!printsOnly) {
            Logging.configure(verbose, command);
          }
          return new CommandLine.RunLast().execute(parsed);
        });
    return cli;
  }

  /**
   * --version of any subcommand prints the program's version too (picocli gives each command its
   * own).
   */
  private static void standardVersion(CommandLine cli) {
    if (cli.getCommandSpec().versionProvider() == null) {
      cli.getCommandSpec().versionProvider(new VersionProvider());
    }
    cli.getSubcommands().values().forEach(MocoStream::standardVersion);
  }

  public static void main(String[] args) {
    // Before any engine starts: PyTorch's threads follow the container's CPU quota unless -D...
    // names a count.
    io.mocostream.vision.model.ComputeThreads.configure();
    System.exit(commandLine().execute(args));
  }
}
