package io.mocostream.encoder.format;

/**
 * Makes a string read from a topic or the registry safe to print or log: one line, bounded length.
 * Control characters (C0, DEL, C1), the Unicode line and paragraph separators and unpaired
 * surrogates are written as a backslash, u and four hex digits, so a {@code keyId} holding a
 * newline cannot forge a second output line (say, an "accepted" one) nor move the terminal's
 * cursor. Escaping twice changes nothing (the escapes are printable), so a message that quotes an
 * escaped value can be escaped again as a whole.
 */
public final class Untrusted {
  /** Longest text kept; a longer one is cut and says how long it was. */
  public static final int MAX_CHARS = 256;

  private Untrusted() {}

  /** {@code value}'s text, escaped and cut to {@link #MAX_CHARS}; {@code "null"} for null. */
  public static String text(Object value) {
    return text(value, MAX_CHARS);
  }

  /** {@code value}'s text, escaped and cut to {@code max} characters of input. */
  public static String text(Object value, int max) {
    if (value == null) {
      return "null";
    }
    String s = value.toString();
    int n = Math.min(s.length(), max);
    StringBuilder out = null;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      boolean escape =
          c < 0x20
              || (c >= 0x7f && c <= 0x9f)
              || c == '\u2028'
              || c == '\u2029'
              || Character.isSurrogate(c) && !validPair(s, i);
      if (escape && out == null) {
        out = new StringBuilder(n + 16).append(s, 0, i);
      }
      if (out != null) {
        if (escape) {
          out.append(String.format("\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
    }
    String head = out == null ? s.substring(0, n) : out.toString();
    return s.length() > max ? head + "...(" + s.length() + " chars)" : head;
  }

  private static boolean validPair(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }
}
