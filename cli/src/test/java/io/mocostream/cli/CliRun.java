package io.mocostream.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * One run of the mocostream command line as {@link MocoStream#main} runs it, without its
 * System.exit.
 */
record CliRun(int rc, String out, String err) {

  /**
   * Runs {@code args}; commands print to System.out (captured) and picocli to the command line's
   * writers.
   */
  static CliRun of(String... args) {
    StringWriter err = new StringWriter();
    StringWriter cliOut = new StringWriter();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    int rc;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      CommandLine cli =
          MocoStream.commandLine()
              .setOut(new PrintWriter(cliOut, true))
              .setErr(new PrintWriter(err, true));
      rc = cli.execute(args);
    } finally {
      System.setOut(stdout);
    }
    String o = cliOut + out.toString(StandardCharsets.UTF_8);
    return new CliRun(rc, o, err.toString());
  }

  @Override
  public String toString() {
    return "rc=" + rc + "\n--- stdout\n" + out + "--- stderr\n" + err;
  }
}
