package io.mocostream.encoder.client;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * The highest version a subscriber accepted, per model topic and model, kept in a file so that a
 * restart does not forget it: without it, a restarted subscriber takes the newest manifest by
 * OFFSET, and re-appending an old version's records byte for byte (they stay validly signed) would
 * make it serve that old version again.
 *
 * <p>Format: a Java properties file, one {@code <topic>/<model>=<version>} line per model,
 * rewritten whole under a temporary name and moved into place, so a crash leaves the old or the new
 * file, never half of one. Several subscribers (models) may share a file within one process; the
 * file is re-read before each write. Thread-safe.
 */
public final class HighWaterMarks {
  private final Path file;

  public HighWaterMarks(Path file) {
    this.file = Objects.requireNonNull(file, "file").toAbsolutePath();
  }

  public Path file() {
    return file;
  }

  /** The version recorded for {@code model} on {@code topic}, if any. */
  public synchronized OptionalLong get(String topic, String model) {
    String v = read().getProperty(key(topic, model));
    if (v == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(v.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "high-water mark file "
              + file
              + ": "
              + key(topic, model)
              + "='"
              + v
              + "' is not a version number; fix or delete the line",
          e);
    }
  }

  /**
   * Records {@code version} for the model unless a higher one is recorded; returns the recorded
   * value.
   */
  public synchronized long raise(String topic, String model, long version) {
    Properties p = read();
    String k = key(topic, model);
    String old = p.getProperty(k);
    if (old != null && Long.parseLong(old.trim()) >= version) {
      return Long.parseLong(old.trim());
    }
    p.setProperty(k, Long.toString(version));
    write(p);
    return version;
  }

  private static String key(String topic, String model) {
    return topic + "/" + model;
  }

  private Properties read() {
    Properties p = new Properties();
    if (!Files.exists(file)) {
      return p;
    }
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
      return p;
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException(
          "cannot read high-water mark file " + file + ": " + e.getMessage(), e);
    }
  }

  private void write(Properties p) {
    try {
      Path dir = file.getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, ".high-water-", ".tmp");
      try {
        try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
          p.store(out, "highest encoder version accepted, per <model topic>/<model>");
        }
        try {
          Files.move(
              tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write high-water mark file " + file, e);
    }
  }

  @Override
  public String toString() {
    return "HighWaterMarks[" + file + "]";
  }
}
