package io.mocostream.registry.server;

import io.mocostream.registry.client.CompatibilityLevel;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Compatibility rules on Avro's own {@link SchemaCompatibility} (reader/writer resolution), with
 * messages worded like Confluent's so that tooling reading them sees familiar text.
 */
final class Compatibility {
  private Compatibility() {}

  /** An earlier version the new schema is checked against. */
  record Earlier(int version, Schema schema) {}

  /**
   * Incompatibilities of {@code candidate} against {@code earlier} (ascending versions, live ones
   * only) under {@code level}: all of them when transitive, else only the latest. Empty when
   * compatible. Each problem is one message, then Confluent's trailing context messages.
   */
  static List<String> check(CompatibilityLevel level, Schema candidate, List<Earlier> earlier) {
    List<String> problems = new ArrayList<>();
    if (level == CompatibilityLevel.NONE || earlier.isEmpty()) {
      return problems;
    }
    List<Earlier> against = level.transitive ? earlier : List.of(earlier.get(earlier.size() - 1));
    // Newest first, as Confluent reports the nearest offending version.
    for (int i = against.size() - 1; i >= 0; i--) {
      Earlier old = against.get(i);
      List<String> found = new ArrayList<>();
      if (level.backward) {
        found.addAll(
            describe(
                SchemaCompatibility.checkReaderWriterCompatibility(candidate, old.schema()),
                "new",
                "old"));
      }
      if (level.forward) {
        found.addAll(
            describe(
                SchemaCompatibility.checkReaderWriterCompatibility(old.schema(), candidate),
                "old",
                "new"));
      }
      if (!found.isEmpty()) {
        problems.addAll(found);
        problems.add("{oldSchemaVersion: " + old.version() + "}");
        problems.add("{oldSchema: '" + old.schema() + "'}");
        problems.add("{compatibility: '" + level.name() + "'}");
        break;
      }
    }
    return problems;
  }

  /**
   * Messages for one reader/writer check; {@code reader}/{@code writer} say which side is "new" or
   * "old".
   */
  private static List<String> describe(
      SchemaPairCompatibility result, String reader, String writer) {
    List<String> out = new ArrayList<>();
    if (result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      return out;
    }
    for (Incompatibility inc : result.getResult().getIncompatibilities()) {
      String path = inc.getLocation();
      String info = inc.getMessage();
      String description;
      switch (inc.getType()) {
        case READER_FIELD_MISSING_DEFAULT_VALUE:
          description =
              "The field '"
                  + info
                  + "' at path '"
                  + path
                  + "' in the "
                  + reader
                  + " schema has no default value and is missing in the "
                  + writer
                  + " schema";
          break;
        case TYPE_MISMATCH:
          description =
              "The type (path '"
                  + path
                  + "') of a field in the "
                  + reader
                  + " schema does not match with the "
                  + writer
                  + " schema";
          break;
        case NAME_MISMATCH:
          description = "The name of the schema has changed (path '" + path + "')";
          break;
        case MISSING_ENUM_SYMBOLS:
          description =
              "The "
                  + reader
                  + " schema is missing enum symbols '"
                  + info
                  + "' at path '"
                  + path
                  + "' in the "
                  + writer
                  + " schema";
          break;
        case MISSING_UNION_BRANCH:
          description =
              "The "
                  + reader
                  + " schema is missing a type inside a union field at path '"
                  + path
                  + "' in the "
                  + writer
                  + " schema";
          break;
        case FIXED_SIZE_MISMATCH:
          description =
              "The size of FIXED type field at path '"
                  + path
                  + "' in the "
                  + reader
                  + " schema does not match with the "
                  + writer
                  + " schema";
          break;
        default:
          description =
              inc.getType()
                  + " at path '"
                  + path
                  + "' ("
                  + reader
                  + " schema reading "
                  + writer
                  + " schema): "
                  + info;
      }
      out.add(
          "{errorType:'"
              + inc.getType()
              + "', description:'"
              + description
              + "', additionalInfo:'"
              + info
              + "'}");
    }
    return out;
  }
}
