package io.mocostream.registry.client;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Confluent's compatibility levels; BACKWARD is the registry default. */
public enum CompatibilityLevel {
  NONE(false, false, false),
  BACKWARD(true, false, false),
  BACKWARD_TRANSITIVE(true, false, true),
  FORWARD(false, true, false),
  FORWARD_TRANSITIVE(false, true, true),
  FULL(true, true, false),
  FULL_TRANSITIVE(true, true, true);

  public static final CompatibilityLevel DEFAULT = BACKWARD;

  /** The new schema must read data written with the old ones. */
  public final boolean backward;

  /** The old schemas must read data written with the new one. */
  public final boolean forward;

  /** Checked against every earlier (non-deleted) version, not just the latest. */
  public final boolean transitive;

  CompatibilityLevel(boolean backward, boolean forward, boolean transitive) {
    this.backward = backward;
    this.forward = forward;
    this.transitive = transitive;
  }

  /** Case-insensitive parse; null when {@code name} is not a level (the caller words the error). */
  public static CompatibilityLevel parse(String name) {
    if (name == null) {
      return null;
    }
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** "NONE, BACKWARD, ..." for error messages. */
  public static String validNames() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }
}
