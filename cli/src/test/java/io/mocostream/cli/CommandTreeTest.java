package io.mocostream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The whole command tree, walked from the real top-level command (every subcommand, the bench's
 * included, and any added later): {@code --help} works on each, every option and positional says
 * what it is for; {@code --version} prints the build's version; usage errors exit with 1; the
 * README's exit code table is {@link ExitCode}'s.
 */
class CommandTreeTest {

  /** Each command's path of names below the top level, in tree order. */
  static List<List<String>> paths(CommandLine cli, List<String> prefix, List<List<String>> into) {
    into.add(prefix);
    for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
      if (!sub.getKey().equals(sub.getValue().getCommandName())) {
        continue; // an alias
      }
      List<String> p = new ArrayList<>(prefix);
      p.add(sub.getKey());
      paths(sub.getValue(), p, into);
    }
    return into;
  }

  @Test
  void helpWorksOnEveryCommand() {
    List<List<String>> paths = paths(MocoStream.commandLine(), List.of(), new ArrayList<>());
    assertTrue(
        paths.size() >= 20, "the tree has the commands and the bench's subcommands: " + paths);
    assertTrue(paths.contains(List.of("bench", "serve")), paths.toString());
    assertTrue(paths.contains(List.of("versions")), paths.toString());
    assertTrue(paths.contains(List.of("generate-completion")), paths.toString());
    List<String> failed = new ArrayList<>();
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      CliRun r = CliRun.of(args.toArray(String[]::new));
      String name = String.join(" ", path);
      if (r.rc() != 0
          || !r.out().contains("Usage: mocostream" + (path.isEmpty() ? "" : " " + name) + " ")
          || !r.err().isEmpty()) {
        failed.add(name + ": " + r);
      }
    }
    assertEquals(List.of(), failed);
  }

  @Test
  void everyOptionAndPositionalIsDescribed() {
    List<String> undescribed = new ArrayList<>();
    walk(MocoStream.commandLine(), undescribed);
    assertEquals(List.of(), undescribed);
  }

  private static void walk(CommandLine cli, List<String> undescribed) {
    CommandSpec spec = cli.getCommandSpec();
    List<ArgSpec> args = new ArrayList<>(spec.options());
    args.addAll(spec.positionalParameters());
    for (ArgSpec a : args) {
      if (a.hidden()) {
        continue;
      }
      String text = String.join(" ", a.description()).strip();
      if (text.isEmpty()) {
        undescribed.add(
            spec.qualifiedName()
                + " "
                + (a instanceof OptionSpec o ? o.longestName() : a.paramLabel()));
      }
    }
    cli.getSubcommands()
        .forEach(
            (name, sub) -> {
              if (name.equals(sub.getCommandName())) {
                walk(sub, undescribed);
              }
            });
  }

  @Test
  void versionIsTheBuildsVersionAndCommit() {
    CliRun r = CliRun.of("--version");
    assertEquals(0, r.rc(), r.toString());
    // project.version from the POM (filtered in at build time), then the git commit or "unknown"
    // outside git.
    assertTrue(
        Pattern.compile(
                "^mocostream \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit ([0-9a-f]{7,40}(-dirty)?|"
                    + "[\\w.-]+-\\d+-g[0-9a-f]{7,40}(-dirty)?|unknown)\\)\\R")
            .matcher(r.out())
            .find(),
        r.toString());
    assertFalse(r.out().contains("development build"), r.out());
    // A subcommand's --version is the same standard option (export's and eval's own option is
    // --model-version).
    assertEquals(r.out(), CliRun.of("export", "--version").out());
  }

  @Test
  void usageErrorsExitWith1() {
    CliRun unknown = CliRun.of("versions", "--model", "m", "--no-such-option");
    assertEquals(1, unknown.rc(), unknown.toString());
    assertTrue(unknown.err().contains("Unknown option: '--no-such-option'"), unknown.toString());
    CliRun missing = CliRun.of("versions");
    assertEquals(1, missing.rc(), missing.toString());
    assertTrue(
        missing.err().contains("Missing required option: '--model=NAME'"), missing.toString());
    CliRun badValue = CliRun.of("versions", "--model", "m", "--timeout-s", "soon");
    assertEquals(1, badValue.rc(), badValue.toString());
    // Checked by the command itself, still a usage error, with the usage shown.
    CliRun neither = CliRun.of("eval");
    assertEquals(1, neither.rc(), neither.toString());
    assertTrue(neither.err().contains("give --model-file F or --model NAME"), neither.toString());
    assertTrue(neither.err().contains("Usage: mocostream eval"), neither.toString());
    CliRun export = CliRun.of("export", "--out", "x.encoder");
    assertEquals(1, export.rc(), export.toString());
  }

  @Test
  void aKeyFileThatIsNotAKeyIsRefusedInputWith3(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path binary =
        Files.write(dir.resolve("binary.pub"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    Path text = Files.writeString(dir.resolve("text.pub"), "not a PEM block\n");
    for (Path bad : List.of(binary, text)) {
      CliRun r =
          CliRun.of(
              "versions",
              "--model",
              "m",
              "--trust",
              bad.toString(),
              "--bootstrap",
              "127.0.0.1:1",
              "--timeout-s",
              "2");
      assertEquals(3, r.rc(), r.toString());
      assertTrue(r.err().contains(bad.toString()), r.toString());
    }
  }

  @Test
  void aMissingFileIsRefusedInputWith3() {
    CliRun r =
        CliRun.of(
            "versions",
            "--model",
            "m",
            "--trust",
            "/nonexistent/model-signing.pub",
            "--bootstrap",
            "127.0.0.1:1",
            "--timeout-s",
            "2");
    assertEquals(3, r.rc(), r.toString());
    assertTrue(r.err().startsWith("mocostream versions: "), r.toString());
    assertTrue(r.err().contains("/nonexistent/model-signing.pub"), r.toString());
  }

  @Test
  void helpListsTheExitCodesAndTheReadmeTableMatches() throws Exception {
    String help = CliRun.of("--help").out().replaceAll("\\s+", " ");
    String readme = Files.readString(Path.of("..", "README.md"));
    for (ExitCode c : ExitCode.values()) {
      assertTrue(help.contains(" " + c.code + " " + c.meaning), c + " in\n" + help);
      assertTrue(
          readme.contains("| " + c.code + " | " + c.meaning + " |"),
          c + " row missing from the README's table");
    }
  }

  @Test
  void completionScriptIsGenerated() {
    CliRun r = CliRun.of("generate-completion");
    assertEquals(0, r.rc(), r.toString());
    assertTrue(
        r.out().contains("complete -F _complete_mocostream") && r.out().contains("versions"),
        r.out());
  }
}
