package io.mocostream.producer;

import io.mocostream.producer.source.SyntheticSource;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The parsed {@code --source} option:
 *
 * <ul>
 *   <li>{@code dir:PATH}: image files in a folder (one pass, or {@code --watch});
 *   <li>{@code idx:IMAGES[,LABELS]}: MNIST-format IDX files, gzipped or not;
 *   <li>{@code synthetic[:CLASSES]}: procedural images with known classes (default {@value
 *       SyntheticSource#DEFAULT_CLASSES});
 *   <li>{@code http:[HOST:]PORT}: an upload endpoint (host default {@value #DEFAULT_HTTP_HOST}).
 * </ul>
 */
public sealed interface SourceSpec {
  /**
   * Loopback only: an open port is untrusted, so reaching the endpoint from cameras and other
   * machines is a choice ({@code http:0.0.0.0:PORT}), best made with a token ({@code
   * MOCOSTREAM_UPLOAD_TOKEN}).
   */
  String DEFAULT_HTTP_HOST = "127.0.0.1";

  String USAGE = "expected dir:PATH, idx:IMAGES[,LABELS], synthetic[:CLASSES] or http:[HOST:]PORT";

  record Dir(Path path) implements SourceSpec {}

  record Idx(Path images, Path labels) implements SourceSpec {}

  record Synthetic(int classes) implements SourceSpec {}

  record Http(String host, int port) implements SourceSpec {}

  /**
   * Parses a spec; the message of the IllegalArgumentException names the bad spec and the expected
   * forms.
   */
  static SourceSpec parse(String spec) {
    Objects.requireNonNull(spec, "source spec");
    String s = spec.trim();
    int colon = s.indexOf(':');
    String kind = colon < 0 ? s : s.substring(0, colon);
    String arg = colon < 0 ? null : s.substring(colon + 1);
    switch (kind) {
      case "dir" -> {
        if (arg == null || arg.isBlank()) {
          throw bad(spec, "dir: needs a folder path");
        }
        return new Dir(Path.of(arg));
      }
      case "idx" -> {
        if (arg == null || arg.isBlank()) {
          throw bad(spec, "idx: needs an images file");
        }
        String[] parts = arg.split(",", -1);
        if (parts.length > 2 || parts[0].isBlank() || (parts.length == 2 && parts[1].isBlank())) {
          throw bad(spec, "idx: takes IMAGES or IMAGES,LABELS");
        }
        return new Idx(Path.of(parts[0]), parts.length == 2 ? Path.of(parts[1]) : null);
      }
      case "synthetic" -> {
        if (arg == null) {
          return new Synthetic(SyntheticSource.DEFAULT_CLASSES);
        }
        int classes = parseInt(spec, arg, "synthetic: class count");
        if (classes < 1 || classes > 1_000_000) {
          throw bad(spec, "synthetic: class count must be in 1..1000000, got " + classes);
        }
        return new Synthetic(classes);
      }
      case "http" -> {
        if (arg == null || arg.isBlank()) {
          throw bad(spec, "http: needs a port");
        }
        int last = arg.lastIndexOf(':');
        String host = last < 0 ? DEFAULT_HTTP_HOST : arg.substring(0, last);
        if (host.isBlank()) {
          throw bad(spec, "http: host before ':' is empty");
        }
        int port = parseInt(spec, arg.substring(last + 1), "http: port");
        if (port < 0 || port > 65535) {
          throw bad(spec, "http: port must be in 0..65535, got " + port);
        }
        return new Http(host, port);
      }
      default -> throw bad(spec, "unknown source kind '" + kind + "'");
    }
  }

  private static int parseInt(String spec, String value, String what) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw bad(spec, what + " '" + value + "' is not a number");
    }
  }

  private static IllegalArgumentException bad(String spec, String why) {
    return new IllegalArgumentException("bad --source '" + spec + "': " + why + " (" + USAGE + ")");
  }
}
