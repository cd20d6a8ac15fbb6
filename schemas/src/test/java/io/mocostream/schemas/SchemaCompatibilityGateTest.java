package io.mocostream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaCompatibilityGateTest {

  private static Path dir(String property) {
    return Path.of(System.getProperty(property));
  }

  @Test
  void everyCurrentSchemaReadsEveryReleasedVersion() throws Exception {
    var violations =
        SchemaCompatibilityGate.check(
            dir("mocostream.schemas.dir"), dir("mocostream.schemas.released"));
    assertTrue(
        violations.isEmpty(),
        () -> String.join("\n", violations.stream().map(Object::toString).toList()));
  }

  @Test
  void everyReleasedSchemaHasACurrentOne() throws Exception {
    try (var names = Files.list(dir("mocostream.schemas.released"))) {
      for (Path released : names.toList()) {
        Path current = dir("mocostream.schemas.dir").resolve(released.getFileName() + ".avsc");
        assertTrue(
            Files.exists(current), "released schema " + released + " has no current " + current);
      }
    }
  }

  @Test
  void generatedClassesMatchTheFiles() throws Exception {
    // Parsing canonical form: the generated schema adds avro.java.string properties, which do not
    // change the data.
    for (Schema generated :
        List.of(
            ImageFrame.getClassSchema(),
            EncoderVersion.getClassSchema(),
            EncoderChunk.getClassSchema(),
            TrainerStep.getClassSchema(),
            TrainerCheckpoint.getClassSchema(),
            StateChunk.getClassSchema(),
            Embedding.getClassSchema())) {
      Path file = dir("mocostream.schemas.dir").resolve(generated.getName() + ".avsc");
      Schema parsed = new Schema.Parser().parse(file.toFile());
      assertEquals(
          SchemaNormalization.toParsingForm(parsed),
          SchemaNormalization.toParsingForm(generated),
          file.toString());
    }
  }

  @Test
  void gateRefusesANewFieldWithoutDefault(@TempDir Path tmp) throws Exception {
    Path current = Files.createDirectories(tmp.resolve("current"));
    Path released = Files.createDirectories(tmp.resolve("released/Thing"));
    Files.writeString(
        released.resolve("v1.avsc"),
        "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
    Files.writeString(
        current.resolve("Thing.avsc"),
        "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
            + "{\"name\":\"b\",\"type\":\"string\"}]}");
    var violations = SchemaCompatibilityGate.check(current, tmp.resolve("released"));
    assertEquals(1, violations.size());
    assertTrue(
        violations.get(0).reason().contains("READER_FIELD_MISSING_DEFAULT"),
        violations.get(0).reason());

    // The same field with a default is a compatible change.
    Files.writeString(
        current.resolve("Thing.avsc"),
        "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
            + "{\"name\":\"b\",\"type\":\"string\",\"default\":\"\"}]}");
    assertTrue(SchemaCompatibilityGate.check(current, tmp.resolve("released")).isEmpty());
  }

  @Test
  void gateRefusesARemovedEnumSymbol() {
    Schema writer =
        new Schema.Parser().parse("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}");
    Schema reader =
        new Schema.Parser().parse("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}");
    assertFalse(SchemaCompatibilityGate.backwardProblems(reader, writer).isEmpty());
  }
}
