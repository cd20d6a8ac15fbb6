package io.mocostream.encoder.format;

/**
 * A set of chunks that does not form one payload. The message names the model, the version and,
 * where there is one, the chunk index at fault.
 */
public final class ChunkException extends Exception {

  /** What is wrong with the chunks. */
  public enum Kind {
    /** An index in {@code 0..count-1} never arrived. */
    MISSING,
    /** An index arrived twice. */
    DUPLICATE,
    /** An index outside {@code 0..count-1}. */
    OUT_OF_RANGE,
    /** Chunks disagree on the chunk count, or the count disagrees with the manifest's. */
    COUNT_MISMATCH,
    /** A chunk of another model or version among them. */
    FOREIGN,
    /** The chunks' bytes do not add up to the declared payload size, or exceed a limit. */
    SIZE_MISMATCH
  }

  private final Kind kind;
  private final String model;
  private final long version;
  private final int index;

  public ChunkException(Kind kind, String model, long version, int index, String message) {
    super(message);
    this.kind = kind;
    this.model = model;
    this.version = version;
    this.index = index;
  }

  public Kind kind() {
    return kind;
  }

  public String model() {
    return model;
  }

  public long version() {
    return version;
  }

  /** The chunk index at fault, or -1 when the fault is not one chunk's. */
  public int index() {
    return index;
  }
}
