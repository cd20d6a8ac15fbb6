package io.mocostream.cli;

import io.mocostream.frames.RegistryUnavailableException;
import io.mocostream.registry.client.RegistryException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.file.FileSystemException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import picocli.CommandLine;

/**
 * The exit codes of every command, one place: {@link ErrorHandler} maps exceptions here, {@link
 * MocoStream} maps picocli's usage errors, the top-level help lists them, and a test checks the
 * README's table against them.
 */
enum ExitCode {
  OK(0, "Success."),
  USAGE(
      1,
      "Usage error: unknown option, missing or malformed value, options that exclude each other."),
  CANNOT_CONNECT(
      2,
      "Cannot connect: the broker or the schema registry did not answer (address, outage, timeout)."),
  REFUSED_INPUT(
      3,
      "Refused input: a file, key, record or version that is missing, malformed or fails verification."),
  NOT_IMPROVED(
      4, "demo: the trained encoder did not beat its baselines (random init, raw pixels)."),
  CHECK_FAILED(
      5,
      "The command's own check failed: replay rebuilt other bytes, bench serve saw failed requests."),
  NOT_ALLOWED(
      6,
      "Not allowed: authentication failed, or the principal lacks an ACL (the message names it)."),
  FAILED(7, "Any other failure; the message says why (MOCOSTREAM_DEBUG=1 adds the stack trace).");

  final int code;
  final String meaning;

  ExitCode(int code, String meaning) {
    this.code = code;
    this.meaning = meaning;
  }

  /**
   * The exit code for a failure: the first category any exception in the cause chain falls into,
   * checked in the order usage, not allowed, cannot connect, refused input (a refused version whose
   * registry was down is an outage, not bad input); else {@link #FAILED}.
   */
  static ExitCode of(Throwable failure) {
    if (failure instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (inChain(failure, ExitCode::notAllowed)) {
      return NOT_ALLOWED;
    }
    if (inChain(failure, ExitCode::cannotConnect)) {
      return CANNOT_CONNECT;
    }
    if (inChain(failure, ExitCode::refusedInput)) {
      return REFUSED_INPUT;
    }
    return FAILED;
  }

  /** Code → meaning, in order, for picocli's exit code list in the help. */
  static Map<String, String> helpList() {
    Map<String, String> m = new LinkedHashMap<>();
    for (ExitCode c : values()) {
      m.put(String.format("%3d", c.code), c.meaning);
    }
    return m;
  }

  private static boolean notAllowed(Throwable t) {
    return t instanceof AuthenticationException
        || t instanceof AuthorizationException
        || t instanceof RegistryException r && (r.status() == 401 || r.status() == 403);
  }

  private static boolean cannotConnect(Throwable t) {
    return t instanceof CannotConnectException
        || t instanceof ConnectException
        || t instanceof NoRouteToHostException
        || t instanceof UnknownHostException
        || t instanceof HttpConnectTimeoutException
        || t instanceof org.apache.kafka.common.errors.TimeoutException
        || t instanceof java.util.concurrent.TimeoutException
        || t instanceof RegistryException r && r.unreachable()
        || t instanceof RegistryUnavailableException;
  }

  private static boolean refusedInput(Throwable t) {
    return t instanceof IllegalArgumentException
        || t instanceof FileSystemException
        || t instanceof java.nio.charset.CharacterCodingException
        || t instanceof java.io.EOFException
        || t instanceof RefusedInputException
        || t instanceof io.mocostream.frames.FrameRejectedException
        || t instanceof io.mocostream.producer.source.IdxFormatException
        || t instanceof io.mocostream.trainer.data.IdxFormatException;
  }

  private static boolean inChain(Throwable t, Predicate<Throwable> p) {
    for (int depth = 0;
        t != null && depth < 32;
        t = t.getCause() == t ? null : t.getCause(), depth++) {
      if (p.test(t)) {
        return true;
      }
    }
    return false;
  }

  /** Thrown by a command when the broker or registry it needs cannot be reached: exit code 2. */
  static final class CannotConnectException extends RuntimeException {
    CannotConnectException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Thrown by a command when an input (file, record, version) is refused: exit code 3. */
  static final class RefusedInputException extends RuntimeException {
    RefusedInputException(String message) {
      super(message);
    }
  }
}
