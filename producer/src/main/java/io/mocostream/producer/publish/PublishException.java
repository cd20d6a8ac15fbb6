package io.mocostream.producer.publish;

/**
 * Publishing cannot go on: the broker is unreachable or stopped acknowledging, the registry refused
 * or could not be reached, or the broker rejected a record. The message names the service and
 * address; the run stops.
 */
public final class PublishException extends RuntimeException {
  public PublishException(String message, Throwable cause) {
    super(message, cause);
  }

  public PublishException(String message) {
    super(message);
  }
}
