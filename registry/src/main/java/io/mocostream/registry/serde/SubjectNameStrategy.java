package io.mocostream.registry.serde;

import org.apache.avro.Schema;
import org.apache.kafka.common.config.ConfigException;

/** Confluent's three subject naming strategies. */
enum SubjectNameStrategy {
  TOPIC("TopicNameStrategy"),
  RECORD("RecordNameStrategy"),
  TOPIC_RECORD("TopicRecordNameStrategy");

  final String name;

  SubjectNameStrategy(String name) {
    this.name = name;
  }

  /** Accepts the simple name or Confluent's fully qualified class name. */
  static SubjectNameStrategy parse(String setting, String value) {
    String simple = value.substring(value.lastIndexOf('.') + 1).trim();
    for (SubjectNameStrategy s : values()) {
      if (s.name.equalsIgnoreCase(simple)) {
        return s;
      }
    }
    throw new ConfigException(
        setting,
        value,
        "unknown subject name strategy; use TopicNameStrategy, RecordNameStrategy or TopicRecordNameStrategy");
  }

  String subject(String topic, boolean isKey, Schema schema) {
    switch (this) {
      case TOPIC:
        return topic + (isKey ? "-key" : "-value");
      case RECORD:
        return recordName(schema);
      default:
        return topic + "-" + recordName(schema);
    }
  }

  private String recordName(Schema schema) {
    if (schema.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException(
          name + " needs a record schema to name the subject, got " + schema.getType());
    }
    return schema.getFullName();
  }
}
