package io.mocostream.registry.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mocostream.registry.client.CompatibilityLevel;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records of the {@code _schemas} topic, in the JSON shapes Confluent's registry writes (keys carry
 * a {@code keytype}; compaction keeps the last value per key, so each key is the whole truth about
 * one thing):
 *
 * <pre>
 * {"keytype":"SCHEMA","subject":s,"version":v,"magic":1}  → {"subject","version","id","schema","deleted"} | null
 * {"keytype":"CONFIG","subject":s|null,"magic":0}         → {"compatibilityLevel":"BACKWARD"} | null
 * {"keytype":"DELETE_SUBJECT","subject":s,"magic":0}      → {"subject":s,"version":v} (soft-deletes versions ≤ v)
 * {"keytype":"CLEAR_SUBJECT","subject":s,"magic":0}       → {"subject":s} (drops soft-deleted versions)
 * {"keytype":"NOOP","magic":0}                            → ignored
 * </pre>
 *
 * Key fields are always written in the same order, so equal keys are equal bytes and compact
 * together.
 */
final class StoreRecords {
  private static final Logger log = LoggerFactory.getLogger(StoreRecords.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private StoreRecords() {}

  static byte[] schemaKey(String subject, int version) {
    return bytes(
        JSON.createObjectNode()
            .put("keytype", "SCHEMA")
            .put("subject", subject)
            .put("version", version)
            .put("magic", 1));
  }

  static byte[] schemaValue(RegistryState.Version v) {
    return bytes(
        JSON.createObjectNode()
            .put("subject", v.subject())
            .put("version", v.version())
            .put("id", v.id())
            .put("schema", v.schema())
            .put("deleted", v.deleted()));
  }

  static byte[] configKey(String subjectOrNull) {
    ObjectNode key = JSON.createObjectNode().put("keytype", "CONFIG");
    if (subjectOrNull == null) {
      key.putNull("subject");
    } else {
      key.put("subject", subjectOrNull);
    }
    return bytes(key.put("magic", 0));
  }

  static byte[] configValue(CompatibilityLevel level) {
    return bytes(JSON.createObjectNode().put("compatibilityLevel", level.name()));
  }

  static byte[] deleteSubjectKey(String subject) {
    return bytes(
        JSON.createObjectNode()
            .put("keytype", "DELETE_SUBJECT")
            .put("subject", subject)
            .put("magic", 0));
  }

  static byte[] deleteSubjectValue(String subject, int upToVersion) {
    return bytes(JSON.createObjectNode().put("subject", subject).put("version", upToVersion));
  }

  /**
   * Applies one record of the topic to the state; unknown key types (e.g. Confluent's MODE) are
   * skipped.
   */
  static void apply(RegistryState state, long offset, byte[] keyBytes, byte[] valueBytes)
      throws IOException {
    if (keyBytes == null) {
      log.warn("skipping record at offset {} of the schemas topic: it has no key", offset);
      return;
    }
    JsonNode key = JSON.readTree(keyBytes);
    JsonNode value = valueBytes == null ? null : JSON.readTree(valueBytes);
    String type = key.path("keytype").asText("");
    String subject = key.hasNonNull("subject") ? key.get("subject").asText() : null;
    switch (type) {
      case "SCHEMA":
        {
          int version = key.path("version").asInt(-1);
          if (subject == null || version < 1) {
            throw new IOException("SCHEMA key without subject/version: " + key);
          }
          if (value == null) {
            state.removeVersion(subject, version);
            return;
          }
          String schema = value.path("schema").asText(null);
          int id = value.path("id").asInt(-1);
          if (schema == null || id < 0) {
            throw new IOException(
                "SCHEMA value without schema/id: " + abbreviate(value.toString()));
          }
          String type1 = value.path("schemaType").asText("AVRO");
          if (!type1.equals("AVRO")) {
            // Written by a full Confluent registry sharing the topic; this one serves AVRO only.
            log.warn(
                "skipping {} schema {} version {} (id {}) at offset {}: only AVRO is served",
                type1,
                subject,
                version,
                id,
                offset);
            return;
          }
          state.putVersion(
              new RegistryState.Version(
                  subject, version, id, schema, value.path("deleted").asBoolean(false)));
          return;
        }
      case "CONFIG":
        {
          CompatibilityLevel level = null;
          if (value != null) {
            String name = value.path("compatibilityLevel").asText(null);
            level = CompatibilityLevel.parse(name);
            if (level == null && name != null) {
              throw new IOException("CONFIG value with unknown compatibility level: " + value);
            }
          }
          state.setLevel(subject, level);
          return;
        }
      case "DELETE_SUBJECT":
        if (subject != null && value != null) {
          state.softDeleteSubject(subject, value.path("version").asInt(Integer.MAX_VALUE));
        }
        return;
      case "CLEAR_SUBJECT":
        if (subject != null && value != null) {
          state.clearSubject(subject);
        }
        return;
      default:
        log.debug("ignoring {} record at offset {} of the schemas topic", type, offset);
    }
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }
}
