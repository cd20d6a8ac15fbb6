package io.mocostream.registry.client;

import java.util.List;

/**
 * Result of a compatibility test.
 *
 * @param compatible whether the registry would accept the schema
 * @param messages the registry's reasons (filled when the check was verbose and failed)
 */
public record CompatibilityCheck(boolean compatible, List<String> messages) {
  public CompatibilityCheck {
    messages = List.copyOf(messages);
  }
}
