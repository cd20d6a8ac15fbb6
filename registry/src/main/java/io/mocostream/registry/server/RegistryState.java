package io.mocostream.registry.server;

import io.mocostream.registry.client.CompatibilityLevel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * The registry's in-memory view, built only by replaying the {@code _schemas} topic (the reader
 * thread is its single mutator); HTTP threads read it under a read lock and get copies.
 *
 * <p>The next id is the largest id seen in the topic plus one. As in Confluent's registry, an id
 * whose every version was permanently deleted, and whose records compaction has since removed, is
 * no longer seen after a restart and could be handed out again; soft deletes (the normal case) keep
 * their records and ids.
 */
final class RegistryState {

  /** One version of one subject, as stored in a SCHEMA record. */
  record Version(String subject, int version, int id, String schema, boolean deleted) {
    Version asDeleted() {
      return new Version(subject, version, id, schema, true);
    }
  }

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<String, TreeMap<Integer, Version>> subjects = new HashMap<>();
  private final Map<Integer, String> schemaById = new HashMap<>();
  private final Map<String, Integer> idBySchema = new HashMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  private CompatibilityLevel globalLevel;
  private int maxId;

  // ------------------------------------------------------------------------------------ mutations
  // (reader thread)

  void putVersion(Version v) {
    write(
        () -> {
          subjects.computeIfAbsent(v.subject(), s -> new TreeMap<>()).put(v.version(), v);
          // A different text under an id already known would be a corrupt or foreign log: first
          // writer wins.
          schemaById.putIfAbsent(v.id(), v.schema());
          idBySchema.putIfAbsent(v.schema(), v.id());
          maxId = Math.max(maxId, v.id());
          return null;
        });
  }

  /** A tombstone: the version is gone for good; its id too once no version uses it any more. */
  void removeVersion(String subject, int version) {
    write(
        () -> {
          TreeMap<Integer, Version> versions = subjects.get(subject);
          if (versions == null) {
            return null;
          }
          Version removed = versions.remove(version);
          if (versions.isEmpty()) {
            subjects.remove(subject);
          }
          if (removed != null && !idInUse(removed.id())) {
            String text = schemaById.remove(removed.id());
            if (text != null) {
              idBySchema.remove(text, removed.id());
            }
          }
          return null;
        });
  }

  /** Confluent's DELETE_SUBJECT record: every version up to {@code upTo} is soft-deleted. */
  void softDeleteSubject(String subject, int upTo) {
    write(
        () -> {
          TreeMap<Integer, Version> versions = subjects.get(subject);
          if (versions != null) {
            for (Map.Entry<Integer, Version> e : versions.headMap(upTo, true).entrySet()) {
              e.setValue(e.getValue().asDeleted());
            }
          }
          return null;
        });
  }

  /** Confluent's CLEAR_SUBJECT record: soft-deleted versions of the subject are dropped. */
  void clearSubject(String subject) {
    List<Integer> deleted =
        read(
            () -> {
              List<Integer> out = new ArrayList<>();
              TreeMap<Integer, Version> versions = subjects.get(subject);
              if (versions != null) {
                versions.values().stream()
                    .filter(Version::deleted)
                    .forEach(v -> out.add(v.version()));
              }
              return out;
            });
    deleted.forEach(v -> removeVersion(subject, v));
  }

  void setLevel(String subjectOrNull, CompatibilityLevel levelOrNull) {
    write(
        () -> {
          if (subjectOrNull == null) {
            globalLevel = levelOrNull;
          } else if (levelOrNull == null) {
            subjectLevels.remove(subjectOrNull);
          } else {
            subjectLevels.put(subjectOrNull, levelOrNull);
          }
          return null;
        });
  }

  // --------------------------------------------------------------------------------------------------- reads

  /** All versions of the subject, soft-deleted ones included, ascending; empty when it has none. */
  List<Version> versions(String subject) {
    return read(
        () -> {
          NavigableMap<Integer, Version> versions = subjects.get(subject);
          return versions == null ? List.of() : List.copyOf(versions.values());
        });
  }

  /**
   * Subject names, sorted; with {@code includeDeleted} also those whose versions are all
   * soft-deleted.
   */
  List<String> subjectNames(boolean includeDeleted) {
    return read(
        () -> {
          TreeSet<String> out = new TreeSet<>();
          subjects.forEach(
              (name, versions) -> {
                if (includeDeleted || versions.values().stream().anyMatch(v -> !v.deleted())) {
                  out.add(name);
                }
              });
          return List.copyOf(out);
        });
  }

  /** Every version in the registry (soft-deleted ones included), by subject then version. */
  List<Version> allVersions() {
    return read(
        () -> {
          List<Version> out = new ArrayList<>();
          new TreeMap<>(subjects).values().forEach(v -> out.addAll(v.values()));
          return out;
        });
  }

  String schemaText(int id) {
    return read(() -> schemaById.get(id));
  }

  Integer idOf(String canonicalSchema) {
    return read(() -> idBySchema.get(canonicalSchema));
  }

  int maxId() {
    return read(() -> maxId);
  }

  /** Versions (soft-deleted ones included) that carry the id. */
  List<Version> versionsWithId(int id) {
    return read(
        () -> {
          List<Version> out = new ArrayList<>();
          new TreeMap<>(subjects)
              .values()
              .forEach(vs -> vs.values().stream().filter(v -> v.id() == id).forEach(out::add));
          return out;
        });
  }

  CompatibilityLevel subjectLevel(String subject) {
    return read(() -> subjectLevels.get(subject));
  }

  /** The global level as configured, or null when it is the default. */
  CompatibilityLevel globalLevel() {
    return read(() -> globalLevel);
  }

  int subjectCount() {
    return read(subjects::size);
  }

  private boolean idInUse(int id) {
    for (TreeMap<Integer, Version> versions : subjects.values()) {
      for (Version v : versions.values()) {
        if (v.id() == id) {
          return true;
        }
      }
    }
    return false;
  }

  private <T> T read(Supplier<T> body) {
    lock.readLock().lock();
    try {
      return body.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  private <T> T write(Supplier<T> body) {
    lock.writeLock().lock();
    try {
      return body.get();
    } finally {
      lock.writeLock().unlock();
    }
  }
}
