package io.mocostream.schemas;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * BACKWARD compatibility, as the registry defines it: a consumer on the new schema can read every
 * record written with any released version. Released versions live in {@code
 * released/<Name>/v<N>.avsc}.
 */
public final class SchemaCompatibilityGate {
  private SchemaCompatibilityGate() {}

  /** One incompatibility: which schema, against which released file, and Avro's explanation. */
  public record Violation(String schema, Path released, String reason) {
    @Override
    public String toString() {
      return schema + " is not BACKWARD compatible with " + released + ": " + reason;
    }
  }

  /**
   * Checks that {@code reader} can read data written with {@code writer}; empty when compatible.
   */
  public static List<String> backwardProblems(Schema reader, Schema writer) {
    var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult();
    if (result.getCompatibility() == SchemaCompatibilityType.COMPATIBLE) {
      return List.of();
    }
    return result.getIncompatibilities().stream()
        .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
        .toList();
  }

  /** Every current schema in {@code currentDir} against every released version of the same name. */
  public static List<Violation> check(Path currentDir, Path releasedDir) throws IOException {
    List<Violation> violations = new ArrayList<>();
    try (Stream<Path> files = Files.list(currentDir)) {
      for (Path current : files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
        Schema reader = new Schema.Parser().parse(current.toFile());
        Path history = releasedDir.resolve(reader.getName());
        if (!Files.isDirectory(history)) {
          continue; // never released: nothing to be compatible with yet
        }
        try (Stream<Path> versions = Files.list(history)) {
          for (Path released :
              versions.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
            Schema writer = new Schema.Parser().parse(released.toFile());
            for (String problem : backwardProblems(reader, writer)) {
              violations.add(new Violation(reader.getFullName(), released, problem));
            }
          }
        }
      }
    }
    return violations;
  }
}
