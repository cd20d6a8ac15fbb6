package io.mocostream.encoder.live;

/**
 * An embedding was asked for while the {@link LiveEncoder} serves no version: none verified and
 * loaded yet, or it was closed. An HTTP front end answers 503 (retry later) to it, not 500.
 */
public final class NotReadyException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public NotReadyException(String message) {
    super(message);
  }
}
