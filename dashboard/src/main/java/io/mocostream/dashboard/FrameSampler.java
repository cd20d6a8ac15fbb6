package io.mocostream.dashboard;

import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.FrameReader;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The newest frames of the frames topic with two augmented views each, as the trainer would draw
 * them: the trainer's {@link Augmenter} (MoCo v2 preset) with a fixed seed and the record's own
 * partition and offset, so a frame always shows the same views. Each call reads the last few
 * records of every partition (not the whole stream).
 */
final class FrameSampler implements AutoCloseable {
  /**
   * Run seed of the views shown (the trainer's is its own; any fixed seed shows what the
   * augmentation does).
   */
  static final long VIEW_SEED = 0;

  /** Side of the views shown. */
  static final int VIEW_SIDE = 64;

  static final int PER_PARTITION = DashboardState.MAX_FRAMES;

  /** Partitions sampled at most. */
  static final int MAX_PARTITIONS = 16;

  /** Pixels a frame may decode to on the dashboard: a page thumbnail needs few. */
  static final long DECODE_PIXELS = 1_000_000;

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final FrameReader reader;
  private final ImageDecoder decoder = new ImageDecoder(FrameLimits.DEFAULT, DECODE_PIXELS);

  FrameSampler(DashboardOptions o) {
    Map<String, Object> c = TopicFollower.consumerConfig(o, "mocostream-dashboard-frames");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
    c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024);
    consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Map<String, Object> serde = new HashMap<>(o.clients().serde(Map.of()));
    serde.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, o.registryUrl());
    reader = new FrameReader(serde);
  }

  /**
   * Samples {@code topic}; writes the newest frames (or nothing, when the topic is empty) into
   * {@code state}.
   */
  void sample(String topic, DashboardState state) {
    List<PartitionInfo> ps = consumer.partitionsFor(topic, Duration.ofSeconds(10));
    if (ps == null || ps.isEmpty()) {
      return;
    }
    List<TopicPartition> tps = new ArrayList<>();
    for (PartitionInfo p : ps) {
      if (tps.size() == MAX_PARTITIONS) {
        break; // a sample, not a scan: bounded reads on a topic of any width
      }
      tps.add(new TopicPartition(p.topic(), p.partition()));
    }
    consumer.assign(tps);
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(tps, Duration.ofSeconds(10));
    Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(10));
    long wanted = 0;
    for (TopicPartition tp : tps) {
      long from = Math.max(begin.get(tp), end.get(tp) - PER_PARTITION);
      consumer.seek(tp, from);
      wanted += end.get(tp) - from;
    }
    List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 3000;
    while (got.size() < wanted && System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(300))) {
        if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
          got.add(r);
        }
      }
    }
    got.sort(
        Comparator.comparingLong((ConsumerRecord<byte[], byte[]> r) -> r.timestamp()).reversed());
    List<Map<String, Object>> out = new ArrayList<>();
    long notShown = 0;
    for (ConsumerRecord<byte[], byte[]> r : got) {
      if (out.size() == DashboardState.MAX_FRAMES) {
        break;
      }
      try {
        out.add(frame(r));
      } catch (
          Throwable
              e) { // a frame that does not decode is not shown; it is the trainer's to dead-letter
        notShown++;
      }
    }
    state.frames(topic, out, notShown);
  }

  private Map<String, Object> frame(ConsumerRecord<byte[], byte[]> r) {
    String where = DeadLetter.origin(r.topic(), r.partition(), r.offset());
    ImageFrame f = reader.read(r.topic(), r.headers(), r.value(), where);
    DecodedImage img = decoder.decode(f, where);
    AugmentConfig config = AugmentConfig.mocoV2(VIEW_SIDE, img.channels());
    Augmenter aug = new Augmenter(config);
    List<String> views = new ArrayList<>();
    float[] v = new float[aug.viewLength()];
    for (int view = 0; view < 2; view++) {
      aug.view(img, VIEW_SEED, r.partition(), r.offset(), view, v, 0);
      views.add(Images.png(v, 0, img.channels(), VIEW_SIDE, config.mean(), config.std()));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("topic", DashboardState.text(r.topic(), 249));
    m.put("partition", r.partition());
    m.put("offset", r.offset());
    m.put("time", r.timestamp());
    m.put("source", DashboardState.text(f.getSourceId(), 120));
    m.put("size", img.width() + "×" + img.height() + "×" + img.channels());
    m.put("label", f.getLabel());
    m.put("image", Images.png(img));
    m.put("views", views);
    return m;
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(2));
    reader.close();
  }
}
