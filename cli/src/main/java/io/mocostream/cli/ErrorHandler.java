package io.mocostream.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception out of a command into one clear line on stderr and the {@link ExitCode} of its
 * kind; the stack trace only with {@code MOCOSTREAM_DEBUG=1}, since users need the reason, not the
 * frames.
 */
final class ErrorHandler implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parsed) {
    String name = cmd.getCommandName();
    StringBuilder msg =
        new StringBuilder("mocostream ").append(name).append(": ").append(describe(e));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      String d = describe(c);
      if (msg.indexOf(d) < 0) {
        msg.append("\n  caused by: ").append(d);
      }
    }
    cmd.getErr().println(cmd.getColorScheme().errorText(msg.toString()));
    if (System.getenv("MOCOSTREAM_DEBUG") != null) {
      e.printStackTrace(cmd.getErr());
    }
    return ExitCode.of(e).code;
  }

  private static String describe(Throwable t) {
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
