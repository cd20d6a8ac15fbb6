package io.mocostream.registry.server;

import io.mocostream.registry.client.CompatibilityLevel;
import io.mocostream.registry.server.Compatibility.Earlier;
import io.mocostream.registry.server.KafkaSchemaLog.StoreException;
import io.mocostream.registry.server.RegistryState.Version;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.avro.Schema;

/**
 * The registry's operations with Confluent's semantics and error codes. Reads come from the
 * in-memory state; every write goes through the Kafka log first (see {@link KafkaSchemaLog}) and is
 * answered only once the reader has applied it. Writes are serialized by one lock: the registry is
 * its topic's single writer, and deciding an id or version then writing it must not interleave with
 * another such decision.
 */
final class RegistryService {
  static final int LATEST = -1;

  private final RegistryState state;
  private final KafkaSchemaLog store;
  private final ReentrantLock writeLock = new ReentrantLock();
  // Parsed schemas by their canonical text: parsing is the costly part of a compatibility check.
  private final ConcurrentMap<String, Schema> parsed = new ConcurrentHashMap<>();

  RegistryService(RegistryState state, KafkaSchemaLog store) {
    this.state = state;
    this.store = store;
  }

  // ------------------------------------------------------------------------------------------------ parsing

  /** Parses a schema sent by a client; 422/42201 when Avro rejects it. */
  static Schema parseSchema(String text) {
    if (text == null || text.isBlank()) {
      throw RestError.invalidSchema("Empty schema");
    }
    try {
      return new Schema.Parser().parse(text);
    } catch (RuntimeException e) {
      // SchemaParseException mostly, but Avro throws others (AvroTypeException for bad defaults,
      // ...).
      throw RestError.invalidSchema(
          "Invalid schema " + abbreviate(text) + ", details: " + e.getMessage());
    }
  }

  /** Confluent's version id: "latest", -1 (latest) or 1..2^31-1; anything else is 422/42202. */
  static int parseVersion(String text) {
    if ("latest".equals(text)) {
      return LATEST;
    }
    int v;
    try {
      v = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      v = 0;
    }
    if (v == LATEST || v >= 1) {
      return v;
    }
    throw new RestError(
        422,
        RestError.INVALID_VERSION,
        "The specified version '"
            + text
            + "' is not a valid version"
            + " id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
  }

  static void checkSubjectName(String subject) {
    if (subject.isEmpty() || subject.chars().anyMatch(Character::isISOControl)) {
      throw new RestError(
          422,
          RestError.INVALID_SUBJECT,
          "The specified subject '"
              + subject.replaceAll("\\p{Cntrl}", "?")
              + "' is not a valid subject name: empty or with control characters");
    }
  }

  // -------------------------------------------------------------------------------------------------- reads

  List<String> subjects(boolean includeDeleted, String prefix) {
    List<String> names = state.subjectNames(includeDeleted);
    if (prefix == null || prefix.isEmpty() || prefix.equals(":*:")) {
      return names;
    }
    return names.stream().filter(n -> n.startsWith(prefix)).toList();
  }

  /**
   * Versions of a subject; 40401 when it has none (live ones, unless deleted ones are asked for
   * too).
   */
  List<Version> versions(String subject, boolean includeDeleted) {
    List<Version> out = new ArrayList<>();
    for (Version v : state.versions(subject)) {
      if (includeDeleted || !v.deleted()) {
        out.add(v);
      }
    }
    if (out.isEmpty()) {
      throw RestError.subjectNotFound(subject);
    }
    return out;
  }

  Version version(String subject, String versionText, boolean includeDeleted) {
    int wanted = parseVersion(versionText);
    List<Version> versions = versions(subject, includeDeleted);
    if (wanted == LATEST) {
      return versions.get(versions.size() - 1);
    }
    for (Version v : versions) {
      if (v.version() == wanted) {
        return v;
      }
    }
    throw RestError.versionNotFound(subject, wanted);
  }

  String schemaById(int id) {
    String text = state.schemaText(id);
    if (text == null) {
      throw RestError.schemaNotFound(String.valueOf(id));
    }
    return text;
  }

  int maxId() {
    return state.maxId();
  }

  List<Version> versionsOfId(int id, boolean includeDeleted) {
    schemaById(id);
    return state.versionsWithId(id).stream().filter(v -> includeDeleted || !v.deleted()).toList();
  }

  List<Version> all(boolean includeDeleted, boolean latestOnly, String prefix) {
    List<Version> out = new ArrayList<>();
    for (Version v : state.allVersions()) {
      if ((includeDeleted || !v.deleted())
          && (prefix == null || prefix.isEmpty() || v.subject().startsWith(prefix))) {
        if (latestOnly && !out.isEmpty() && out.get(out.size() - 1).subject().equals(v.subject())) {
          out.set(out.size() - 1, v);
        } else {
          out.add(v);
        }
      }
    }
    return out;
  }

  /** POST /subjects/{subject}: the version of the subject holding this schema. */
  Version lookup(String subject, Schema schema, boolean includeDeleted) {
    List<Version> versions = versions(subject, includeDeleted);
    String canonical = schema.toString();
    for (int i = versions.size() - 1; i >= 0; i--) {
      if (versions.get(i).schema().equals(canonical)) {
        return versions.get(i);
      }
    }
    throw RestError.schemaNotFound(null);
  }

  CompatibilityLevel subjectLevel(String subject) {
    return state.subjectLevel(subject);
  }

  CompatibilityLevel globalLevel() {
    CompatibilityLevel level = state.globalLevel();
    return level == null ? CompatibilityLevel.DEFAULT : level;
  }

  CompatibilityLevel effectiveLevel(String subject) {
    CompatibilityLevel level = state.subjectLevel(subject);
    return level == null ? globalLevel() : level;
  }

  /**
   * Compatibility test: against one given version, or ({@code versionText} "latest" or null)
   * against the subject's live versions as a registration would be checked. No subject at all is
   * compatible with anything.
   */
  List<String> testCompatibility(String subject, String versionText, Schema schema) {
    List<Version> live = state.versions(subject).stream().filter(v -> !v.deleted()).toList();
    CompatibilityLevel level = effectiveLevel(subject);
    if (versionText != null) {
      int wanted = parseVersion(versionText);
      if (wanted != LATEST) {
        Version target =
            live.stream()
                .filter(v -> v.version() == wanted)
                .findFirst()
                .orElseThrow(() -> RestError.versionNotFound(subject, wanted));
        return Compatibility.check(level, schema, List.of(earlier(target)));
      }
    }
    return Compatibility.check(level, schema, earlier(live));
  }

  // ------------------------------------------------------------------------------------------------- writes

  /**
   * Registers a schema under a subject and returns its id (the existing one when already
   * registered).
   */
  int register(String subject, Schema schema) {
    checkSubjectName(subject);
    String canonical = schema.toString();
    writeLock.lock();
    try {
      store.catchUp();
      List<Version> all = state.versions(subject);
      List<Version> live = all.stream().filter(v -> !v.deleted()).toList();
      for (Version v : live) {
        if (v.schema().equals(canonical)) {
          return v.id();
        }
      }
      List<String> problems = Compatibility.check(effectiveLevel(subject), schema, earlier(live));
      if (!problems.isEmpty()) {
        throw new RestError(
            409,
            RestError.INCOMPATIBLE_SCHEMA,
            "Schema being registered is incompatible with an"
                + " earlier schema for subject \""
                + subject
                + "\", details: ["
                + String.join(", ", problems)
                + "]");
      }
      Integer known = state.idOf(canonical);
      // Ids are global: the same schema under another subject keeps its id, as in Confluent.
      int id = known != null ? known : state.maxId() + 1;
      // Soft-deleted versions keep their numbers (their keys stay in the topic): count past them.
      int version = all.isEmpty() ? 1 : all.get(all.size() - 1).version() + 1;
      Version fresh = new Version(subject, version, id, canonical, false);
      store.awaitApplied(
          store.append(StoreRecords.schemaKey(subject, version), StoreRecords.schemaValue(fresh)));
      boolean landed = state.versions(subject).stream().anyMatch(v -> v.equals(fresh));
      if (!landed) {
        throw new RestError(
            500,
            RestError.STORE_ERROR,
            "Error while registering schema under subject '"
                + subject
                + "': another registry wrote version "
                + version
                + " concurrently; retry");
      }
      parsed.putIfAbsent(canonical, schema);
      return id;
    } catch (StoreException e) {
      throw storeError("registering a schema under subject '" + subject + "'", e);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Soft delete (all live versions) or, after that, permanent delete of a subject; returns the
   * versions.
   */
  List<Integer> deleteSubject(String subject, boolean permanent) {
    writeLock.lock();
    try {
      store.catchUp();
      List<Version> all = state.versions(subject);
      if (all.isEmpty()) {
        throw RestError.subjectNotFound(subject);
      }
      List<Integer> live = all.stream().filter(v -> !v.deleted()).map(Version::version).toList();
      if (!permanent) {
        if (live.isEmpty()) {
          throw new RestError(
              404,
              RestError.SUBJECT_SOFT_DELETED,
              "Subject '"
                  + subject
                  + "' was soft deleted.Set permanent=true to delete permanently");
        }
        store.awaitApplied(
            store.append(
                StoreRecords.deleteSubjectKey(subject),
                StoreRecords.deleteSubjectValue(subject, live.get(live.size() - 1))));
        return live;
      }
      if (!live.isEmpty()) {
        throw new RestError(
            404,
            RestError.SUBJECT_NOT_SOFT_DELETED,
            "Subject '" + subject + "' was not deleted first before being permanently deleted");
      }
      long last = -1;
      for (Version v : all) {
        last = store.append(StoreRecords.schemaKey(subject, v.version()), null);
      }
      store.awaitApplied(last);
      return all.stream().map(Version::version).toList();
    } catch (StoreException e) {
      throw storeError("deleting subject '" + subject + "'", e);
    } finally {
      writeLock.unlock();
    }
  }

  /** Soft or (after that) permanent delete of one version; returns its number. */
  int deleteVersion(String subject, String versionText, boolean permanent) {
    int wanted = parseVersion(versionText);
    writeLock.lock();
    try {
      store.catchUp();
      List<Version> candidates =
          state.versions(subject).stream().filter(v -> permanent || !v.deleted()).toList();
      if (candidates.isEmpty()) {
        throw RestError.subjectNotFound(subject);
      }
      Version target =
          wanted == LATEST
              ? candidates.get(candidates.size() - 1)
              : state.versions(subject).stream()
                  .filter(v -> v.version() == wanted)
                  .findFirst()
                  .orElseThrow(() -> RestError.versionNotFound(subject, wanted));
      if (!permanent) {
        if (target.deleted()) {
          throw new RestError(
              404,
              RestError.VERSION_SOFT_DELETED,
              "Subject '"
                  + subject
                  + "' Version "
                  + target.version()
                  + " was soft deleted.Set permanent=true to delete permanently");
        }
        store.awaitApplied(
            store.append(
                StoreRecords.schemaKey(subject, target.version()),
                StoreRecords.schemaValue(target.asDeleted())));
      } else {
        if (!target.deleted()) {
          throw new RestError(
              404,
              RestError.VERSION_NOT_SOFT_DELETED,
              "Subject '"
                  + subject
                  + "' Version "
                  + target.version()
                  + " was not deleted first before being permanently deleted");
        }
        store.awaitApplied(store.append(StoreRecords.schemaKey(subject, target.version()), null));
      }
      return target.version();
    } catch (StoreException e) {
      throw storeError("deleting version " + versionText + " of subject '" + subject + "'", e);
    } finally {
      writeLock.unlock();
    }
  }

  /** Sets the global (null subject) or a subject's level. */
  CompatibilityLevel setLevel(String subjectOrNull, CompatibilityLevel level) {
    if (subjectOrNull != null) {
      checkSubjectName(subjectOrNull);
    }
    writeLock.lock();
    try {
      store.awaitApplied(
          store.append(StoreRecords.configKey(subjectOrNull), StoreRecords.configValue(level)));
      return level;
    } catch (StoreException e) {
      throw storeError("updating the compatibility level", e);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Removes a subject's level (40408 when it has none) or resets the global one; returns the level
   * removed.
   */
  CompatibilityLevel deleteLevel(String subjectOrNull) {
    writeLock.lock();
    try {
      store.catchUp();
      CompatibilityLevel old =
          subjectOrNull == null ? globalLevel() : state.subjectLevel(subjectOrNull);
      if (old == null) {
        throw notConfigured(subjectOrNull);
      }
      store.awaitApplied(store.append(StoreRecords.configKey(subjectOrNull), null));
      return old;
    } catch (StoreException e) {
      throw storeError("deleting the compatibility level", e);
    } finally {
      writeLock.unlock();
    }
  }

  static RestError notConfigured(String subject) {
    return new RestError(
        404,
        RestError.SUBJECT_COMPATIBILITY_NOT_CONFIGURED,
        "Subject '" + subject + "' does not have subject-level compatibility configured");
  }

  // ----------------------------------------------------------------------------------------------
  // internals

  private List<Earlier> earlier(List<Version> versions) {
    List<Earlier> out = new ArrayList<>(versions.size());
    for (Version v : versions) {
      out.add(earlier(v));
    }
    return out;
  }

  private Earlier earlier(Version v) {
    Schema schema =
        parsed.computeIfAbsent(
            v.schema(),
            text -> {
              try {
                return new Schema.Parser().parse(text);
              } catch (RuntimeException e) {
                throw new RestError(
                    500,
                    RestError.STORE_ERROR,
                    "stored schema of subject '"
                        + v.subject()
                        + "' version "
                        + v.version()
                        + " (id "
                        + v.id()
                        + ") cannot be parsed: "
                        + e.getMessage());
              }
            });
    return new Earlier(v.version(), schema);
  }

  private static RestError storeError(String what, StoreException e) {
    return e.timeout
        ? new RestError(
            500, RestError.OPERATION_TIMEOUT, "Timed out " + what + ": " + e.getMessage(), e)
        : new RestError(
            500,
            RestError.STORE_ERROR,
            "Error in the backend data store while " + what + ": " + e.getMessage(),
            e);
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "…";
  }
}
