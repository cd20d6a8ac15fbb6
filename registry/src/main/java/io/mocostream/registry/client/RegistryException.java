package io.mocostream.registry.client;

/**
 * A schema registry request failed: the registry answered with an error, or no registry URL could
 * be reached. Carries the HTTP status and Confluent {@code error_code} (e.g. 40401 subject not
 * found, 40403 schema not found, 409/40901 incompatible, 42201 invalid schema), the URL and the
 * subject, so callers can branch on the code.
 */
public class RegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Status used when no HTTP response was received at all. */
  public static final int NO_RESPONSE = -1;

  private final int status;
  private final int errorCode;
  private final String url;
  private final String subject;

  public RegistryException(
      String message, int status, int errorCode, String url, String subject, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
    this.url = url;
    this.subject = subject;
  }

  /** HTTP status, or {@link #NO_RESPONSE} when the registry could not be reached. */
  public int status() {
    return status;
  }

  /**
   * Confluent error code from the response body ({@code error_code}); the HTTP status when the body
   * had none.
   */
  public int errorCode() {
    return errorCode;
  }

  /** The request URL (the last one tried when several were). */
  public String url() {
    return url;
  }

  /** The subject the request was about, or null. */
  public String subject() {
    return subject;
  }

  /** True when the registry was not reachable (as opposed to answering with an error). */
  public boolean unreachable() {
    return status == NO_RESPONSE;
  }
}
