package io.mocostream.trainer.stream;

import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.FrameReader;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.frames.Reason;
import io.mocostream.frames.RegistryUnavailableException;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.schemas.StepSegment;
import io.mocostream.trainer.moco.QueueEntry;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.augment.BatchAugmenter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Turns consumed records into a {@link PreparedBatch}: Avro → frame → pixels → two augmented views.
 * The trainer and replay share it, so that the same records give the same batch (the same
 * rejections, the same views) in both.
 */
final class BatchPreparer implements AutoCloseable {
  private final FrameReader reader;
  private final ImageDecoder decoder;
  private final BatchAugmenter augmenter;
  private final long seed;

  BatchPreparer(String registryUrl, TrainerConfig config) {
    this(Map.of("schema.registry.url", registryUrl), config);
  }

  /**
   * @param serdeConfig the registry URL and its client settings (credentials, TLS)
   */
  BatchPreparer(Map<String, ?> serdeConfig, TrainerConfig config) {
    this.reader = new FrameReader(serdeConfig);
    // Decoded within the budget: however large a frame, it costs at most decodePixels × 3 bytes in
    // the batch.
    this.decoder = new ImageDecoder(config.limits(), config.decodePixels());
    this.augmenter = new BatchAugmenter(new Augmenter(config.augment()), config.prepareThreads());
    this.seed = config.moco().seed();
  }

  /** A decoded frame of the batch being formed, or its rejection. */
  record Checked(
      ConsumerRecord<byte[], byte[]> record,
      ImageFrame frame,
      DecodedImage image,
      Rejection rejection) {
    boolean usable() {
      return rejection == null;
    }
  }

  /**
   * Reads and decodes one record by the shared frame contract; whatever is wrong with the record
   * becomes a {@link Rejection}, never an exception. A registry outage is not the record's fault:
   * it is thrown.
   *
   * @throws RegistryUnavailableException when the writer schema could not be fetched
   */
  Checked check(ConsumerRecord<byte[], byte[]> record) {
    String where = DeadLetter.origin(record.topic(), record.partition(), record.offset());
    try {
      ImageFrame frame = reader.read(record.topic(), record.headers(), record.value(), where);
      DecodedImage image = decoder.decode(frame, ImageDecoder.describe(frame) + " at " + where);
      return new Checked(record, frame, image, null);
    } catch (FrameRejectedException e) {
      return rejected(record, e.reason(), e.getMessage());
    } catch (RegistryUnavailableException e) {
      throw e;
    } catch (
        Throwable t) { // NOPMD: whatever else one record causes is that record's refusal, never the
      // trainer's end
      return rejected(record, Reason.INTERNAL, "cannot read " + where + ": " + t);
    }
  }

  private static Checked rejected(
      ConsumerRecord<byte[], byte[]> record, Reason reason, String message) {
    return new Checked(record, null, null, new Rejection(record, reason, message));
  }

  /**
   * Builds the batch of {@code checked} records (in consumption order), augmenting the usable ones.
   */
  PreparedBatch prepare(List<Checked> checked) {
    List<BatchAugmenter.Item> items = new ArrayList<>();
    List<QueueEntry> entries = new ArrayList<>();
    List<Rejection> rejected = new ArrayList<>();
    List<StepSegment> segments = new ArrayList<>();
    Map<TopicPartition, Long> next = new LinkedHashMap<>();
    long bytes = 0;
    StepSegment open = null;
    for (Checked c : checked) {
      ConsumerRecord<byte[], byte[]> r = c.record();
      bytes += r.value() == null ? 0 : r.value().length;
      // A segment is a run of consecutive records of one partition; replay reads [from, to)
      // read_committed.
      if (open != null
          && open.getTopic().equals(r.topic())
          && open.getPartition() == r.partition()
          && r.offset() >= open.getToOffset()) {
        open.setToOffset(r.offset() + 1);
      } else {
        open = new StepSegment(r.topic(), r.partition(), r.offset(), r.offset() + 1);
        segments.add(open);
      }
      next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
      if (c.usable()) {
        items.add(new BatchAugmenter.Item(c.image(), r.partition(), r.offset()));
        entries.add(
            new QueueEntry(
                c.frame().getSourceId(),
                r.partition(),
                r.offset(),
                0,
                c.frame().getCaptureTime().toEpochMilli()));
      } else {
        rejected.add(c.rejection());
      }
    }
    int viewLength = augmenter.augmenter().viewLength();
    float[] q = new float[items.size() * viewLength]; // N×C×S×S
    float[] k = new float[items.size() * viewLength]; // N×C×S×S
    augmenter.twoViews(items, seed, q, k);
    return new PreparedBatch(
        items.size(),
        q,
        k,
        List.copyOf(entries),
        List.copyOf(rejected),
        List.copyOf(segments),
        Map.copyOf(next),
        bytes,
        List.copyOf(items),
        List.of());
  }

  @Override
  public void close() {
    augmenter.close();
    reader.close();
  }
}
