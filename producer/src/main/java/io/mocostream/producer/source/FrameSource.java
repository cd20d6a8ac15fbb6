package io.mocostream.producer.source;

import java.io.IOException;

/**
 * A pull source of candidate frames. Not thread-safe: one thread pulls; {@link #close()} may be
 * called from another thread to end a blocking {@link #next()} (a watched folder).
 */
public interface FrameSource extends AutoCloseable {

  /**
   * The next entry, or null when the source is exhausted (or closed). A watching source blocks
   * until a file is complete.
   *
   * @throws IOException when the source as a whole is broken (an IDX file with a bad header or
   *     truncated data); a single bad input is a {@link SourceEntry.Refused} instead
   */
  SourceEntry next() throws IOException, InterruptedException;

  /**
   * Called from another thread to end a {@link #next()} that waits for input (a watched folder);
   * that call then returns null. Sources that never wait need do nothing: the caller stops pulling.
   */
  default void cancel() {}

  /** Starts again from the first entry (for {@code --loop}). */
  void rewind() throws IOException;

  /** One line naming the source, for logs. */
  String describe();

  @Override
  void close() throws IOException;
}
