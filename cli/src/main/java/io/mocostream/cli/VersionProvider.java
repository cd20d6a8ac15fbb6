package io.mocostream.cli;

import picocli.CommandLine.IVersionProvider;

final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = MocoStream.class.getPackage().getImplementationVersion();
    return new String[] {"mocostream " + (v == null ? "development build" : v),
        "Java " + System.getProperty("java.version")};
  }
}
