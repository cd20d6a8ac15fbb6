package io.mocostream.registry.serde;

import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;

/**
 * The schema of a value handed to the serializer: its own for Avro objects, a primitive schema
 * otherwise.
 */
final class AvroSchemas {
  private static final Schema BOOLEAN = Schema.create(Schema.Type.BOOLEAN);
  private static final Schema INT = Schema.create(Schema.Type.INT);
  private static final Schema LONG = Schema.create(Schema.Type.LONG);
  private static final Schema FLOAT = Schema.create(Schema.Type.FLOAT);
  private static final Schema DOUBLE = Schema.create(Schema.Type.DOUBLE);
  private static final Schema STRING = Schema.create(Schema.Type.STRING);
  private static final Schema BYTES = Schema.create(Schema.Type.BYTES);

  private AvroSchemas() {}

  /** Same mapping as Confluent's serializer; null when the value has no Avro schema. */
  static Schema of(Object value) {
    if (value instanceof GenericContainer) {
      return ((GenericContainer) value).getSchema();
    } else if (value instanceof CharSequence) {
      return STRING;
    } else if (value instanceof byte[] || value instanceof ByteBuffer) {
      return BYTES;
    } else if (value instanceof Integer) {
      return INT;
    } else if (value instanceof Long) {
      return LONG;
    } else if (value instanceof Boolean) {
      return BOOLEAN;
    } else if (value instanceof Double) {
      return DOUBLE;
    } else if (value instanceof Float) {
      return FLOAT;
    }
    return null;
  }

  static boolean isPrimitive(Schema schema) {
    switch (schema.getType()) {
      case NULL:
      case BOOLEAN:
      case INT:
      case LONG:
      case FLOAT:
      case DOUBLE:
      case STRING:
      case BYTES:
        return true;
      default:
        return false;
    }
  }
}
