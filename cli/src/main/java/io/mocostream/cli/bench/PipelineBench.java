package io.mocostream.cli.bench;

import io.mocostream.frames.DecodedImage;
import io.mocostream.registry.serde.KafkaAvroSerializer;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.trainer.data.Datasets;
import io.mocostream.trainer.data.IdxDataset;
import io.mocostream.trainer.moco.MocoEngine;
import io.mocostream.trainer.moco.QueueEntry;
import io.mocostream.trainer.stream.StreamTrainer;
import io.mocostream.trainer.stream.TrainerConfig;
import io.mocostream.trainer.stream.TrainerListener;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.augment.BatchAugmenter;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code bench pipeline}: does the stream cost anything? The same MoCo steps on the same
 * Fashion-MNIST frames, (a) fed by the streaming trainer from a Kafka topic (consume, Avro, decode,
 * augment, step, step log, transactions) and (b) from views prepared in memory beforehand, only
 * {@code engine.step} timed. Warm-up steps are excluded from both; (b) runs before and after (a)
 * and its mean is the baseline, to even out drift.
 */
public final class PipelineBench {
  static final int WARMUP = 3;

  private PipelineBench() {}

  public static String run(
      String bootstrap, String registryUrl, String arch, int batch, int steps, PrintStream out)
      throws Exception {
    int total = WARMUP + steps;
    IdxDataset images = Datasets.fashionMnist().train().first(total * batch);
    if (images.size() < total * batch) {
      throw new IllegalArgumentException(
          "the data set has " + images.size() + " images; " + total * batch + " needed");
    }
    String run = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> settings = new HashMap<>();
    settings.put(TrainerConfig.MODEL_NAME_CONFIG, run);
    settings.put(TrainerConfig.FRAMES_TOPIC_CONFIG, run + ".frames");
    settings.put(TrainerConfig.DLQ_TOPIC_CONFIG, run + ".dlq");
    settings.put(TrainerConfig.STEPS_TOPIC_CONFIG, run + ".steps");
    settings.put(TrainerConfig.STATE_TOPIC_CONFIG, run + ".state");
    settings.put(TrainerConfig.VERSIONS_TOPIC_CONFIG, run + ".versions");
    settings.put(TrainerConfig.BATCH_SIZE_CONFIG, String.valueOf(batch));
    settings.put(TrainerConfig.MAX_STEPS_CONFIG, String.valueOf(total));
    settings.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, String.valueOf(total));
    settings.put(TrainerConfig.KEYS_DIR_CONFIG, Files.createTempDirectory("bench-keys").toString());
    settings.put("moco.architecture", arch);
    settings.put("moco.queue.size", "4096");
    TrainerConfig config = TrainerConfig.of(settings);
    out.printf(
        Locale.ROOT,
        "pipeline bench: %s, batch %d, %d measured steps (+%d warm-up), %s%n",
        arch,
        batch,
        steps,
        WARMUP,
        images.source());

    writeFrames(bootstrap, registryUrl, config.framesTopic(), images);
    double memory1 = inMemory(config, images, batch, total);
    out.printf(Locale.ROOT, "in memory:  %.2f img/s%n", memory1);
    double streamed = streamed(bootstrap, registryUrl, config, batch);
    out.printf(
        Locale.ROOT,
        "streamed:   %.2f img/s (consume + decode + augment + step + log, Kafka transactions)%n",
        streamed);
    double memory2 = inMemory(config, images, batch, total);
    out.printf(Locale.ROOT, "in memory:  %.2f img/s (again)%n", memory2);
    String line =
        String.format(
            Locale.ROOT, "pipeline_efficiency=%.3f", streamed / ((memory1 + memory2) / 2));
    out.println(line);
    return line;
  }

  private static void writeFrames(
      String bootstrap, String registryUrl, String topic, IdxDataset images) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    KafkaAvroSerializer values = new KafkaAvroSerializer();
    values.configure(Map.of("schema.registry.url", registryUrl), false);
    try (var producer =
        new KafkaProducer<String, Object>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.LINGER_MS_CONFIG,
                20,
                ProducerConfig.BATCH_SIZE_CONFIG,
                512 * 1024),
            new StringSerializer(),
            values)) {
      for (int i = 0; i < images.size(); i++) {
        DecodedImage img = images.image(i);
        producer.send(
            new ProducerRecord<>(
                topic,
                "fashion-mnist",
                ImageFrame.newBuilder()
                    .setSourceId("fashion-mnist")
                    .setSequence(i)
                    .setCaptureTime(Instant.ofEpochMilli(i))
                    .setContentType(ContentType.RAW_GREY)
                    .setData(ByteBuffer.wrap(img.pixels()))
                    .setWidth(img.width())
                    .setHeight(img.height())
                    .setLabel(images.label(i))
                    .build()));
      }
      producer.flush();
    }
  }

  /** Images per second of the measured steps when everything is prepared beforehand. */
  private static double inMemory(TrainerConfig config, IdxDataset images, int batch, int total) {
    Augmenter augmenter = new Augmenter(config.augment());
    int len = augmenter.viewLength();
    List<float[][]> prepared = new ArrayList<>();
    List<List<QueueEntry>> entries = new ArrayList<>();
    try (BatchAugmenter views = new BatchAugmenter(augmenter, config.prepareThreads())) {
      for (int s = 0; s < total; s++) {
        List<BatchAugmenter.Item> items = new ArrayList<>();
        List<QueueEntry> e = new ArrayList<>();
        for (int i = s * batch; i < (s + 1) * batch; i++) {
          items.add(new BatchAugmenter.Item(images.image(i), 0, i));
          e.add(new QueueEntry("fashion-mnist", 0, i, 0, i));
        }
        float[] q = new float[batch * len];
        float[] k = new float[batch * len];
        views.twoViews(items, config.moco().seed(), q, k);
        prepared.add(new float[][] {q, k});
        entries.add(e);
      }
    }
    try (MocoEngine engine = new MocoEngine(config.moco())) {
      long start = 0;
      for (int s = 0; s < total; s++) {
        if (s == WARMUP) {
          start = System.nanoTime();
        }
        engine.step(prepared.get(s)[0], prepared.get(s)[1], batch, entries.get(s));
      }
      return (double) (total - WARMUP) * batch / ((System.nanoTime() - start) / 1e9);
    }
  }

  /**
   * Images per second of the measured steps of the streaming trainer, from the end of warm-up to
   * the last step.
   */
  private static double streamed(
      String bootstrap, String registryUrl, TrainerConfig config, int batch)
      throws InterruptedException {
    long[] marks = new long[2];
    int[] images = {0};
    TrainerListener timing =
        new TrainerListener() {
          @Override
          public void onStep(
              long step, double loss, int n, long rejected, long skipped, double ips, long lag) {
            if (step == WARMUP) {
              marks[0] = System.nanoTime();
            } else if (step > WARMUP) {
              marks[1] = System.nanoTime();
              images[0] += n;
            }
          }
        };
    new StreamTrainer(config, bootstrap, registryUrl, timing).run();
    return images[0] / ((marks[1] - marks[0]) / 1e9);
  }
}
