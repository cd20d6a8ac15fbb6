package io.mocostream.frames;

/**
 * The schema registry could not be asked (unreachable, or a 5xx): not the record's fault. A stage
 * pauses and retries the same record; it never dead-letters a good frame for it.
 */
public final class RegistryUnavailableException extends RuntimeException {
  public RegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
