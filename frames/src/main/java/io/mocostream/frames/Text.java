package io.mocostream.frames;

/**
 * Untrusted strings made safe to print or put in a header: control characters escaped, length
 * bounded.
 */
public final class Text {
  private Text() {}

  /**
   * {@code s} with every control character (newlines included, so no forged log or output line)
   * written as {@code \n}, {@code \r}, {@code \t} or {@code \\u} and four hex digits, cut at {@code
   * maxChars} with an ellipsis.
   */
  public static String printable(String s, int maxChars) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(Math.min(s.length(), maxChars) + 8);
    for (int i = 0; i < s.length() && sb.length() < maxChars; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    if (sb.length() >= maxChars && s.length() > maxChars) {
      sb.setLength(maxChars);
      sb.append('…');
    }
    return sb.toString();
  }
}
