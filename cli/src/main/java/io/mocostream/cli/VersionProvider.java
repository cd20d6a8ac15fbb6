package io.mocostream.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the project version and git commit the build wrote into
 * mocostream-version.properties.
 */
final class VersionProvider implements IVersionProvider {
  static final String RESOURCE = "/mocostream-version.properties";

  @Override
  public String[] getVersion() {
    Properties p = new Properties();
    try (InputStream in = VersionProvider.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // unreadable: reported below as unknown, never a made-up version
    }
    String version = known(p.getProperty("version"), "unknown (built without " + RESOURCE + ")");
    String commit = known(p.getProperty("commit"), "unknown");
    return new String[] {
      "mocostream " + version + " (commit " + commit + ")",
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
    };
  }

  /** A value the build filled in; an unfilled placeholder or nothing is {@code otherwise}. */
  private static String known(String value, String otherwise) {
    return value == null || value.isBlank() || value.startsWith("${") ? otherwise : value.strip();
  }
}
