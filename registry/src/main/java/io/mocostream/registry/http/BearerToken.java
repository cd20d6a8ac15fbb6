package io.mocostream.registry.http;

import com.sun.net.httpserver.HttpExchange;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A shared-secret bearer token check for the project's HTTP servers ({@code serve}, the upload
 * endpoint). Both sides are compared as SHA-256 digests: digests have one length whatever was
 * presented, so {@link MessageDigest#isEqual} runs in constant time and leaks neither the token's
 * content nor its length.
 */
public final class BearerToken {
  private final byte[] digest; // null: no token configured, every request is admitted

  private BearerToken(byte[] digest) {
    this.digest = digest;
  }

  /** A check for {@code token}; null admits every request. */
  public static BearerToken of(String token) {
    return new BearerToken(token == null ? null : sha256(token));
  }

  /** Whether a token is configured. */
  public boolean required() {
    return digest != null;
  }

  /**
   * Whether the request carries {@code Authorization: Bearer <token>} with the configured token (or
   * none is set).
   */
  public boolean admits(HttpExchange ex) {
    if (digest == null) {
      return true;
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    String presented = "";
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      presented = header.substring(7).trim();
    }
    return MessageDigest.isEqual(digest, sha256(presented));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }
}
