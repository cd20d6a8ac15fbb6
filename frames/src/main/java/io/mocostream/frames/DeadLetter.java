package io.mocostream.frames;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The dead-letter record format every stage writes: the original key and value byte for byte, the
 * original headers, and four headers saying why, what, where from and which stage:
 *
 * <ul>
 *   <li>{@value #REASON_HEADER}: a {@link Reason} name ({@code TOO_MANY_PIXELS});
 *   <li>{@value #MESSAGE_HEADER}: what was wrong, naming the frame, control characters escaped, at
 *       most {@value #MAX_MESSAGE_CHARS} characters;
 *   <li>{@value #ORIGIN_HEADER}: {@code topic-partition@offset} of the original record;
 *   <li>{@value #STAGE_HEADER}: {@code ingest}, {@code trainer} or {@code embed-stream}.
 * </ul>
 *
 * Headers of these names already on the original (a dead letter fed back in, or a writer forging
 * them) are replaced, so each dead letter carries exactly one of each. All UTF-8.
 *
 * @param reason why
 * @param message what was wrong (made printable and bounded here)
 * @param origin where the record was read
 * @param stage which stage refused it
 */
public record DeadLetter(Reason reason, String message, String origin, String stage) {
  public static final String REASON_HEADER = "mocostream.dlq.reason";
  public static final String MESSAGE_HEADER = "mocostream.dlq.message";
  public static final String ORIGIN_HEADER = "mocostream.dlq.origin";
  public static final String STAGE_HEADER = "mocostream.dlq.stage";
  public static final int MAX_MESSAGE_CHARS = 2000;

  /** Stage names. */
  public static final String INGEST = "ingest";

  public static final String TRAINER = "trainer";
  public static final String EMBED_STREAM = "embed-stream";

  public DeadLetter {
    Objects.requireNonNull(reason, "reason");
    message = Text.printable(Objects.requireNonNull(message, "message"), MAX_MESSAGE_CHARS);
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(stage, "stage");
  }

  /** The dead letter of a refused frame. */
  public static DeadLetter of(FrameRejectedException e, String origin, String stage) {
    return new DeadLetter(e.reason(), e.getMessage(), origin, stage);
  }

  /**
   * {@code topic-partition@offset}, as {@value #ORIGIN_HEADER} and rejection messages name a
   * record.
   */
  public static String origin(String topic, int partition, long offset) {
    return topic + "-" + partition + "@" + offset;
  }

  /**
   * A copy of {@code original} (may be null) with this dead letter's headers in place of any of the
   * same names.
   */
  public Headers headersOn(Headers original) {
    RecordHeaders headers = new RecordHeaders();
    if (original != null) {
      for (Header h : original) {
        if (!h.key().startsWith("mocostream.dlq.")) {
          headers.add(h.key(), h.value());
        }
      }
    }
    headers.add(REASON_HEADER, reason.name().getBytes(StandardCharsets.UTF_8));
    headers.add(MESSAGE_HEADER, message.getBytes(StandardCharsets.UTF_8));
    headers.add(ORIGIN_HEADER, origin.getBytes(StandardCharsets.UTF_8));
    headers.add(STAGE_HEADER, stage.getBytes(StandardCharsets.UTF_8));
    return headers;
  }

  /**
   * The record to send to {@code dlqTopic}: key and value untouched, the original timestamp, these
   * headers.
   */
  public ProducerRecord<byte[], byte[]> toRecord(
      String dlqTopic, byte[] key, byte[] value, Long timestamp, Headers original) {
    return new ProducerRecord<>(dlqTopic, null, timestamp, key, value, headersOn(original));
  }

  /** The dead letter described by a record's headers, if it has a reason header. */
  public static Optional<DeadLetter> from(Headers headers) {
    Header reason = headers.lastHeader(REASON_HEADER);
    if (reason == null) {
      return Optional.empty();
    }
    return Optional.of(
        new DeadLetter(
            Reason.fromHeader(utf8(reason)),
            utf8(headers.lastHeader(MESSAGE_HEADER)),
            utf8(headers.lastHeader(ORIGIN_HEADER)),
            utf8(headers.lastHeader(STAGE_HEADER))));
  }

  private static String utf8(Header h) {
    return h == null || h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
  }
}
