package io.mocostream.trainer.stream;

import io.mocostream.registry.client.ClientSettings;
import io.mocostream.schemas.StepSegment;
import io.mocostream.trainer.moco.MocoEngine;
import io.mocostream.trainer.moco.QueueEntry;
import io.mocostream.trainer.replay.RedundancyBuffer;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.augment.BatchAugmenter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The trainer's redundancy-reducing replay buffer ({@value #SIZE_CONFIG} &gt; 0; see {@link
 * RedundancyBuffer}): each consumed batch's usable frames enter the buffer, the most redundant
 * leave, and the step trains on a batch drawn from it.
 *
 * <p>Features for redundancy: f_q's L2-normalised head output of the un-augmented frame, in
 * inference mode, computed once when the frame enters. MinRed uses the key encoder; with m ≥ 0.99
 * f_k trails f_q closely, and inference mode makes a frame's feature independent of the batch it
 * came with, so the same frame always gets the same bits.
 *
 * <p>Exactly-once and replay: the buffer's state (each frame's stream position, queue metadata,
 * feature, insertion number, draw count) is saved with the engine state in every checkpoint; images
 * are read back from the frames topic on restore. The step log lists each step's drawn frames in
 * batch order ({@code drawn}), and a drawn batch's views are seeded by {@code (seed, step)} and the
 * frame's position, so replay trains on the same views without the buffer.
 */
final class ReplayStage implements AutoCloseable {
  /** Replay buffer capacity in frames; 0 (the default) trains on each consumed batch directly. */
  static final String SIZE_CONFIG = "replay.buffer.size";

  private static final int STATE_MAGIC = 0x52504C42; // "RPLB"

  /**
   * A frame in the buffer: where it is in the stream, its queue metadata, and its decoded image.
   */
  record Buffered(String topic, BatchAugmenter.Item item, QueueEntry entry) {}

  /** The batch to train on, with its composition for the step log. */
  record Drawn(
      int n,
      float[] queryViews,
      float[] keyViews,
      List<QueueEntry> entries,
      List<StepSegment> segments) {}

  private final RedundancyBuffer<Buffered> buffer;
  private final BatchAugmenter augmenter;
  private final int batchSize;
  private final long seed;

  ReplayStage(TrainerConfig config) {
    this.buffer =
        new RedundancyBuffer<>(bufferSize(config), config.moco().architecture().embeddingDim());
    this.augmenter = new BatchAugmenter(new Augmenter(config.augment()), config.prepareThreads());
    this.batchSize = config.batchSize();
    this.seed = config.moco().seed();
  }

  /** The configured capacity; 0 = no buffer. */
  static int bufferSize(TrainerConfig config) {
    String v = config.properties().getOrDefault(SIZE_CONFIG, "0");
    int size;
    try {
      size = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(SIZE_CONFIG + "='" + v + "' is not an integer");
    }
    // Not tied to the batch size (replay rebuilds a run without it): a buffer smaller than a batch
    // is drawn whole.
    if (size != 0 && size < 2) {
      throw new IllegalArgumentException(
          SIZE_CONFIG + "=" + size + " must be 0 (off) or at least 2");
    }
    return size;
  }

  /** The buffer when the configuration asks for one, else null. */
  static ReplayStage of(TrainerConfig config) {
    return bufferSize(config) > 0 ? new ReplayStage(config) : null;
  }

  int size() {
    return buffer.size();
  }

  long evicted() {
    return buffer.evicted();
  }

  /**
   * Admits the consumed batch's usable frames, evicts down to capacity, and draws the batch of step
   * {@code step} (1-based, as in the step log).
   */
  Drawn admitAndDraw(PreparedBatch consumed, String topic, MocoEngine engine, long step) {
    int n = consumed.n();
    if (n > 0) {
      List<Buffered> incoming = new ArrayList<>(n);
      List<io.mocostream.frames.DecodedImage> images = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        incoming.add(new Buffered(topic, consumed.items().get(i), consumed.entries().get(i)));
        images.add(consumed.items().get(i).image());
      }
      float[] centre = new float[n * augmenter.augmenter().viewLength()]; // n×C×S×S
      augmenter.center(images, centre);
      float[] features = engine.embed(centre, n); // n×D, L2-normalised
      buffer.insert(incoming, features);
    }
    return views(buffer.draw(batchSize, seed, step), seed, step, augmenter);
  }

  /**
   * The two views of drawn frames at step {@code step}: what the trainer trains on and replay
   * rebuilds.
   */
  static Drawn views(List<Buffered> drawn, long seed, long step, BatchAugmenter augmenter) {
    List<BatchAugmenter.Item> items = new ArrayList<>(drawn.size());
    List<QueueEntry> entries = new ArrayList<>(drawn.size());
    List<StepSegment> segments = new ArrayList<>(drawn.size());
    for (Buffered b : drawn) {
      items.add(b.item());
      entries.add(b.entry());
      segments.add(
          new StepSegment(
              b.topic(), b.item().partition(), b.item().offset(), b.item().offset() + 1));
    }
    int len = augmenter.augmenter().viewLength();
    float[] q = new float[drawn.size() * len]; // N×C×S×S
    float[] k = new float[drawn.size() * len]; // N×C×S×S
    // A frame drawn at several steps gets new views each time: the step is part of the seed.
    augmenter.twoViews(items, RedundancyBuffer.mix(seed, step), q, k);
    return new Drawn(drawn.size(), q, k, List.copyOf(entries), List.copyOf(segments));
  }

  /** Appends the buffer's state (positions, metadata, features; not the images) to {@code out}. */
  void save(DataOutputStream out) throws IOException {
    out.writeInt(STATE_MAGIC);
    out.writeInt(buffer.capacity());
    out.writeLong(buffer.nextSeq());
    List<RedundancyBuffer.Slot<Buffered>> slots = buffer.slots();
    out.writeInt(slots.size());
    for (RedundancyBuffer.Slot<Buffered> s : slots) {
      Buffered b = s.value();
      out.writeUTF(b.topic());
      out.writeInt(b.item().partition());
      out.writeLong(b.item().offset());
      out.writeUTF(b.entry().sourceId());
      out.writeLong(b.entry().timestampMs());
      out.writeLong(s.seq());
      out.writeInt(s.draws());
      out.writeInt(s.feature().length);
      for (float f : s.feature()) {
        out.writeFloat(f);
      }
    }
  }

  /**
   * Restores what {@link #save} wrote; {@code frames} gives the usable, decoded record at each
   * position (the trainer reads them back from the frames topic).
   */
  void load(
      DataInputStream in,
      Function<List<TopicPosition>, Map<TopicPosition, BatchAugmenter.Item>> frames)
      throws IOException {
    if (in.readInt() != STATE_MAGIC) {
      throw new IOException("trainer state has no replay buffer section (bad magic number)");
    }
    int capacity = in.readInt();
    if (capacity != buffer.capacity()) {
      throw new IOException(
          "saved replay buffer has capacity " + capacity + ", this run " + buffer.capacity());
    }
    long nextSeq = in.readLong();
    int count = in.readInt();
    record Saved(
        TopicPosition at, String source, long time, long seq, int draws, float[] feature) {}
    List<Saved> saved = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      TopicPosition at = new TopicPosition(in.readUTF(), in.readInt(), in.readLong());
      String source = in.readUTF();
      long time = in.readLong();
      long seq = in.readLong();
      int draws = in.readInt();
      float[] feature = new float[in.readInt()];
      for (int j = 0; j < feature.length; j++) {
        feature[j] = in.readFloat();
      }
      saved.add(new Saved(at, source, time, seq, draws, feature));
    }
    Map<TopicPosition, BatchAugmenter.Item> items =
        frames.apply(saved.stream().map(Saved::at).toList());
    List<RedundancyBuffer.Slot<Buffered>> slots = new ArrayList<>(count);
    for (Saved s : saved) {
      BatchAugmenter.Item item = items.get(s.at());
      if (item == null) {
        throw new IOException("replay buffer frame " + s.at() + " could not be read back");
      }
      QueueEntry entry =
          new QueueEntry(s.source(), s.at().partition(), s.at().offset(), 0, s.time());
      slots.add(
          new RedundancyBuffer.Slot<>(
              new Buffered(s.at().topic(), item, entry), s.feature(), s.seq(), s.draws()));
    }
    buffer.restore(slots, nextSeq);
  }

  /** Empties the buffer (a run that rolls back to before its first checkpoint). */
  void clear() {
    buffer.restore(List.of(), 0);
  }

  /** A frame's position. */
  record TopicPosition(String topic, int partition, long offset) {
    TopicPartition topicPartition() {
      return new TopicPartition(topic, partition);
    }
  }

  /**
   * Reads the records at {@code positions} from the frames topic and decodes them with {@code
   * preparer}; a record that no longer decodes (it did when it entered the buffer) fails the
   * restore, naming it. {@code clients}: the trainer's client settings (a secured cluster).
   */
  static Map<TopicPosition, BatchAugmenter.Item> readBack(
      String bootstrap,
      ClientSettings clients,
      BatchPreparer preparer,
      List<TopicPosition> positions) {
    Map<TopicPosition, BatchAugmenter.Item> out = new java.util.HashMap<>();
    List<TopicPosition> sorted = new ArrayList<>(positions);
    sorted.sort(
        Comparator.comparing(TopicPosition::topic)
            .thenComparingInt(TopicPosition::partition)
            .thenComparingLong(TopicPosition::offset));
    try (Replayer.RangeReader reader = new Replayer.RangeReader(bootstrap, clients)) {
      for (TopicPosition p : sorted) {
        List<ConsumerRecord<byte[], byte[]>> records =
            reader.read(p.topicPartition(), p.offset(), p.offset() + 1);
        if (records.isEmpty()) {
          throw new IllegalStateException(
              "replay buffer frame " + p + " is gone from the topic (retention?)");
        }
        BatchPreparer.Checked c = preparer.check(records.get(0));
        if (!c.usable()) {
          throw new IllegalStateException(
              "replay buffer frame " + p + " no longer decodes: " + c.rejection().message());
        }
        out.put(p, new BatchAugmenter.Item(c.image(), p.partition(), p.offset()));
      }
    }
    return out;
  }

  /** Engine state followed by the buffer's, as one checkpoint payload. */
  byte[] wrap(byte[] engineState) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(engineState.length + (1 << 16));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(engineState.length);
      out.write(engineState);
      save(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Splits a payload written by {@link #wrap}: restores the buffer, returns the engine state. */
  byte[] unwrap(
      byte[] payload,
      Function<List<TopicPosition>, Map<TopicPosition, BatchAugmenter.Item>> frames) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      byte[] engineState = new byte[in.readInt()];
      in.readFully(engineState);
      load(in, frames);
      return engineState;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore the replay buffer: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    augmenter.close();
  }
}
