package io.mocostream.frames;

import io.mocostream.registry.client.RegistryException;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.schemas.ImageFrame;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.kafka.common.header.Headers;

/**
 * Reads an {@link ImageFrame} from a Kafka record's value (Confluent wire format, writer schema
 * from the registry), the same way in every consuming stage. Whatever is wrong with the record
 * itself is a {@link FrameRejectedException} with a reason: a null value (tombstone) or no bytes
 * {@link Reason#EMPTY}; not the wire format, an unknown schema id, a corrupt or truncated body, and
 * any Throwable from inside the deserializer (an {@code AvroTypeException} from a stored schema, a
 * {@code LinkageError} from class lookup, an allocation a hostile length asks for) are {@link
 * Reason#DESERIALIZE}; a readable record of another type {@link Reason#NOT_AN_IMAGE_FRAME}. A
 * registry that cannot be asked is not the record's fault: {@link RegistryUnavailableException}, to
 * pause and retry on.
 *
 * <p>Not thread-safe (one per consuming thread or stream task); close it with its owner.
 */
public final class FrameReader implements AutoCloseable {
  private final KafkaAvroDeserializer deserializer;

  /**
   * Per writer schema id, where it repeats zero-width items (empty: nowhere). Ids are immutable.
   */
  private final Map<Integer, Optional<String>> loopingPaths = new HashMap<>();

  /**
   * @param serdeConfig registry settings ({@code schema.registry.url}, credentials, ...); the
   *     reader sets {@code specific.avro.reader} itself
   */
  public FrameReader(Map<String, ?> serdeConfig) {
    Map<String, Object> config = new HashMap<>(serdeConfig);
    config.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true);
    deserializer = new KafkaAvroDeserializer();
    deserializer.configure(config, false);
  }

  /** A reader of the registry at {@code registryUrl} with no other settings. */
  public static FrameReader forRegistry(String registryUrl) {
    return new FrameReader(Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, registryUrl));
  }

  /**
   * The frame in {@code value}.
   *
   * @param where names the record in messages ({@link DeadLetter#origin})
   * @throws FrameRejectedException when the record cannot be a frame
   * @throws RegistryUnavailableException when the registry could not be asked for the writer schema
   */
  public ImageFrame read(String topic, Headers headers, byte[] value, String where) {
    if (value == null) {
      throw new FrameRejectedException(
          Reason.EMPTY, where, "null value (a tombstone), not a frame");
    }
    if (value.length == 0) {
      throw new FrameRejectedException(Reason.EMPTY, where, "empty value, not a frame");
    }
    refuseLoopingSchema(value, where);
    Object read;
    try {
      read = deserializer.deserialize(topic, headers, value);
    } catch (
        Throwable t) { // NOPMD: any failure of one record is that record's refusal (see the class
      // comment)
      if (registryUnavailable(t)) {
        throw new RegistryUnavailableException(
            "cannot read " + where + ": schema registry unavailable: " + t.getMessage(), t);
      }
      throw new FrameRejectedException(Reason.DESERIALIZE, where, describe(t), t);
    }
    if (!(read instanceof ImageFrame frame)) {
      throw new FrameRejectedException(
          Reason.NOT_AN_IMAGE_FRAME,
          where,
          "value is "
              + (read == null ? "null" : "a " + read.getClass().getSimpleName())
              + ", not an ImageFrame");
    }
    return frame;
  }

  /**
   * Refuses a record whose writer schema has an array or map of items that take no bytes ({@code
   * array<null>}, an empty record): its block count alone (two billion in a 6-byte record) would
   * keep the deserializer's length-checking skip pass, and then the read, looping billions of times
   * on one record, allocating a list of that many nulls. Anyone who may register a schema can write
   * one. Other registry failures are left to the deserializer, which names them.
   */
  private void refuseLoopingSchema(byte[] value, String where) {
    if (value.length < 5 || value[0] != 0) {
      return;
    }
    int id =
        (value[1] & 0xff) << 24
            | (value[2] & 0xff) << 16
            | (value[3] & 0xff) << 8
            | (value[4] & 0xff);
    Schema writer;
    try {
      writer = deserializer.client().getById(id);
    } catch (RuntimeException e) {
      if (registryUnavailable(e)) {
        throw new RegistryUnavailableException(
            "cannot read " + where + ": schema registry unavailable: " + e.getMessage(), e);
      }
      return;
    }
    String path =
        loopingPaths
            .computeIfAbsent(
                id, k -> Optional.ofNullable(zeroWidthRepeat(writer, new IdentityHashMap<>())))
            .orElse(null);
    if (path != null) {
      throw new FrameRejectedException(
          Reason.DESERIALIZE,
          where,
          "writer schema id "
              + id
              + " has "
              + path
              + " whose items take no bytes: a block count alone could make reading it loop billions of times");
    }
  }

  /** Where {@code s} repeats items of no width (named in the message), or null. */
  private static String zeroWidthRepeat(Schema s, IdentityHashMap<Schema, Boolean> seen) {
    switch (s.getType()) {
      case ARRAY, MAP -> {
        Schema item = s.getType() == Schema.Type.ARRAY ? s.getElementType() : null;
        if (item != null && zeroWidth(item, new IdentityHashMap<>())) {
          return "an array of " + item;
        }
        // A map's keys are strings (at least a length byte): never zero-width; its values may still
        // repeat.
        return zeroWidthRepeat(
            s.getType() == Schema.Type.ARRAY ? s.getElementType() : s.getValueType(), seen);
      }
      case RECORD -> {
        if (seen.put(s, Boolean.TRUE) != null) {
          return null;
        }
        for (Schema.Field f : s.getFields()) {
          String inner = zeroWidthRepeat(f.schema(), seen);
          if (inner != null) {
            return inner + " (field " + f.name() + ")";
          }
        }
        return null;
      }
      case UNION -> {
        for (Schema branch : s.getTypes()) {
          String inner = zeroWidthRepeat(branch, seen);
          if (inner != null) {
            return inner;
          }
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  /** Whether a value of {@code s} may be encoded in zero bytes. */
  private static boolean zeroWidth(Schema s, IdentityHashMap<Schema, Boolean> seen) {
    return switch (s.getType()) {
      case NULL -> true;
      case FIXED -> s.getFixedSize() == 0;
      case RECORD -> {
        if (seen.put(s, Boolean.TRUE) != null) {
          yield false; // recursive: a value needs at least a union index or a count somewhere
        }
        boolean all = true;
        for (Schema.Field f : s.getFields()) {
          all &= zeroWidth(f.schema(), seen);
        }
        yield all;
      }
      default ->
          false; // numbers, strings, bytes, enums, unions, arrays and maps take at least one byte
    };
  }

  /**
   * Whether a failure is the registry's (unreachable, throttling or a server error), not the
   * record's.
   */
  public static boolean registryUnavailable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RegistryException r) {
        return r.unreachable() || r.status() >= 500 || r.status() == 429;
      }
    }
    return false;
  }

  private static String describe(Throwable t) {
    StringBuilder sb =
        new StringBuilder(t.getMessage() == null ? t.getClass().getName() : t.getMessage());
    if (t instanceof Error) {
      sb.insert(0, t.getClass().getSimpleName() + ": ");
    }
    Throwable c = t.getCause();
    for (int i = 0; c != null && i < 3; c = c.getCause(), i++) {
      if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
        sb.append(": ").append(c.getMessage());
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    deserializer.close();
  }
}
