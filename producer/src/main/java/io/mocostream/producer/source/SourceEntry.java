package io.mocostream.producer.source;

import io.mocostream.producer.validate.Refusal;

/**
 * What a {@link FrameSource} yields: a candidate frame, or an input it already had to refuse
 * (unreadable, too big).
 */
public sealed interface SourceEntry permits SourceItem, SourceEntry.Refused {

  /**
   * An input the source refused before it had bytes to offer (e.g. a file over the byte limit is
   * never read).
   */
  record Refused(Refusal refusal) implements SourceEntry {}
}
