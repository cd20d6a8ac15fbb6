package io.mocostream.producer.source;

import io.mocostream.schemas.ContentType;
import java.util.Map;
import java.util.Objects;

/**
 * A candidate frame, not yet validated.
 *
 * @param sourceId the Kafka key: one camera, folder or feed
 * @param origin where it came from, for logs and refusals: a file path, {@code file#index}, an
 *     upload
 * @param contentType what the source knows: RAW_GREY/RAW_RGB for raw pixels, a declared type for
 *     uploads, or null (the validator then goes by the magic bytes)
 * @param data encoded image or raw pixels
 * @param width pixels per row, required for raw content
 * @param height rows, required for raw content
 * @param label class label when the source has one (idx, synthetic), else null
 * @param captureTimeMs capture time (file modification time for files)
 * @param attributes free-form metadata carried into the record (file name, index, ...)
 */
public record SourceItem(
    String sourceId,
    String origin,
    ContentType contentType,
    byte[] data,
    Integer width,
    Integer height,
    Integer label,
    long captureTimeMs,
    Map<String, String> attributes)
    implements SourceEntry {

  public SourceItem {
    Objects.requireNonNull(sourceId, "sourceId");
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(data, "data");
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
  }

  @Override
  public String toString() {
    return "SourceItem[" + sourceId + " " + origin + ", " + data.length + " bytes]";
  }
}
