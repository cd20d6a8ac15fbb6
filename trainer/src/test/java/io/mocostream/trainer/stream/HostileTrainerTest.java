package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.client.RegistryClientConfig;
import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.schemas.StepSegment;
import io.mocostream.schemas.TrainerStep;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.hostile.HostileFrames;
import io.mocostream.testkit.hostile.HostileFrames.Case;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hostile-input and fault suite, through a trainer reading a frames topic directly, against the
 * real broker and registry: every {@link HostileFrames} case, a garbage flood, a registry outage, a
 * flood of 16 Mpx frames, a retention gap and a partition added while training. The trainer must
 * stay alive, every consumed offset must be in exactly one step or one dead letter, and no good
 * frame may be dead-lettered.
 */
@ExtendWith(KafkaClusterExtension.class)
class HostileTrainerTest {
  private static final String CASE_HEADER = "hostile.case";

  /** A running trainer: its thread's result, and how many steps it finished. */
  private record Running(StreamTrainer trainer, CompletableFuture<Long> result, AtomicLong steps) {
    long stop() throws Exception {
      trainer.stop();
      return result.get(120, TimeUnit.SECONDS);
    }
  }

  private static Running start(TrainerConfig config, String bootstrap, String registryUrl) {
    AtomicLong steps = new AtomicLong();
    StreamTrainer trainer =
        new StreamTrainer(
            config,
            bootstrap,
            registryUrl,
            new TrainerListener() {
              @Override
              public void onStep(
                  long step,
                  double loss,
                  int images,
                  long rejected,
                  long skipped,
                  double imagesPerSec,
                  long lag) {
                steps.set(step);
              }
            });
    CompletableFuture<Long> result = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                result.complete(trainer.run());
              } catch (Throwable e) {
                result.completeExceptionally(e);
              }
            },
            "hostile-trainer");
    t.setDaemon(true);
    t.start();
    return new Running(trainer, result, steps);
  }

  private static Map<String, String> settings(String prefix, Path keys) {
    Map<String, String> s = StreamTrainerTest.tinyRun(prefix, keys, 0);
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "500");
    s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "20");
    s.put(TrainerConfig.PUBLISH_EVERY_SECONDS_CONFIG, "2");
    return s;
  }

  private static void await(
      BooleanSupplier condition, Duration timeout, String what, Running running)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (running != null && running.result.isDone()) {
        fail("the trainer ended before " + what + ": " + running.result);
      }
      if (System.nanoTime() > deadline) {
        fail("no " + what + " within " + timeout);
      }
      Thread.sleep(100);
    }
  }

  @Test
  void everyHostileCaseIsTrainedOrDeadLetteredExactlyOnce(KafkaCluster cluster, @TempDir Path keys)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("hostile");
    String frames = prefix + ".frames";
    cluster.createTopic(frames, 2);
    cluster.createTopic(prefix + ".dlq", 1);
    HostileFrames.SchemaIds ids;
    try (SchemaRegistryClient client =
        new SchemaRegistryClient(RegistryClientConfig.of(cluster.registryUrl()))) {
      ids = HostileFrames.SchemaIds.register(client, frames, prefix + ".other-value");
    }
    List<Case> cases = HostileFrames.cases(ids, HostileFrames.DEFAULT_SEED);
    assertTrue(cases.size() >= 250, "at least 250 cases, got " + cases.size());
    Map<String, Case> byName = new HashMap<>();
    try (KafkaProducer<byte[], byte[]> producer = rawProducer(cluster)) {
      int i = 0;
      for (Case c : cases) {
        byName.put(c.name(), c);
        ProducerRecord<byte[], byte[]> r =
            new ProducerRecord<>(frames, i++ % 2, c.key(), c.value());
        r.headers().add(CASE_HEADER, c.name().getBytes(StandardCharsets.UTF_8));
        producer.send(r);
      }
      producer.flush();
    }
    long accepted = cases.stream().filter(Case::accepted).count();
    long bad = cases.size() - accepted;

    Running running =
        start(
            TrainerConfig.of(settings(prefix, keys)),
            cluster.bootstrapServers(),
            cluster.registryUrl());
    Map<String, ConsumerRecord<byte[], byte[]>> letters = new TreeMap<>();
    List<String> duplicates = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> dlq = committedReader(cluster, prefix + ".dlq")) {
      long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
      while (letters.size() + duplicates.size() < bad
          && System.nanoTime() < deadline
          && !running.result.isDone()) {
        for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofMillis(200))) {
          String name =
              new String(r.headers().lastHeader(CASE_HEADER).value(), StandardCharsets.UTF_8);
          if (letters.put(name, r) != null) {
            duplicates.add(name);
          }
        }
      }
      // Everything consumed is committed by now; let the trainer reach the end of the topic, then
      // stop it.
      Thread.sleep(3000);
      assertFalse(running.result.isDone(), "the trainer is alive: " + running.result);
      running.stop();
      for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofSeconds(2))) {
        String name =
            new String(r.headers().lastHeader(CASE_HEADER).value(), StandardCharsets.UTF_8);
        if (letters.put(name, r) != null) {
          duplicates.add(name);
        }
      }
    }
    assertEquals(List.of(), duplicates, "dead-lettered more than once");
    List<String> wrong = new ArrayList<>();
    for (Case c : cases) {
      ConsumerRecord<byte[], byte[]> letter = letters.get(c.name());
      if (c.accepted()) {
        if (letter != null) {
          wrong.add(
              c.name()
                  + " is valid but was dead-lettered: "
                  + DeadLetter.from(letter.headers()).map(DeadLetter::message).orElse("?"));
        }
        continue;
      }
      if (letter == null) {
        wrong.add(c.name() + " was not dead-lettered (expected " + c.expected() + ")");
        continue;
      }
      DeadLetter d = DeadLetter.from(letter.headers()).orElseThrow();
      if (!c.expected().contains(d.reason().name())) {
        wrong.add(
            c.name()
                + ": expected "
                + c.expected()
                + ", got "
                + d.reason()
                + " ("
                + d.message()
                + ")");
      }
      if (!java.util.Arrays.equals(c.key(), letter.key())
          || !java.util.Arrays.equals(c.value(), letter.value())) {
        wrong.add(c.name() + ": dead letter's key or value differs from the original bytes");
      }
      assertEquals(DeadLetter.TRAINER, d.stage());
    }
    assertEquals(List.of(), wrong, wrong.size() + " of " + cases.size() + " cases");

    // Every offset in exactly one step (its segments tile each partition) and every rejection one
    // dead letter.
    List<TrainerStep> steps = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
    long trained = 0;
    long rejected = 0;
    long trainingSteps = 0;
    for (TrainerStep s : steps) {
      trained += s.getBatchSize();
      rejected += s.getRejected();
      trainingSteps += s.getSkipped() ? 0 : 1;
    }
    assertTiled(steps, Map.of(0, (long) (cases.size() + 1) / 2, 1, (long) cases.size() / 2));
    assertEquals(bad, rejected);
    assertEquals(accepted, trained);
    assertTrue(trainingSteps > 0, "some steps trained");
    System.out.printf(
        "hostile suite through the trainer: %d cases, %d accepted and trained, %d dead-lettered once"
            + " each, %d steps (%d training)%n",
        cases.size(), accepted, bad, steps.size(), trainingSteps);
  }

  @Test
  void aFloodOf2000GarbageRecordsIsDeadLetteredAndTrainingGoesOn(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("flood");
    String frames = prefix + ".frames";
    cluster.createTopic(frames, 1);
    try (KafkaProducer<byte[], byte[]> producer = rawProducer(cluster)) {
      for (int i = 0; i < 2000; i++) {
        producer.send(
            new ProducerRecord<>(
                frames,
                ("k" + i).getBytes(StandardCharsets.UTF_8),
                "hello".getBytes(StandardCharsets.US_ASCII)));
      }
      producer.flush();
    }
    TestFrames.send(cluster.bootstrapServers(), cluster.registryUrl(), frames, 64, i -> false);
    Map<String, String> s = settings(prefix, keys);
    s.put(
        TrainerConfig.BATCH_SIZE_CONFIG,
        "64"); // the default, as in the report of a trainer stopped by "hello"
    long t0 = System.nanoTime();
    Running running = start(TrainerConfig.of(s), cluster.bootstrapServers(), cluster.registryUrl());
    await(
        () -> running.steps.get() >= 1 && trainedSoFar(cluster, prefix) >= 64,
        Duration.ofMinutes(4),
        "64 trained frames after the flood",
        running);
    double seconds = (System.nanoTime() - t0) / 1e9;
    running.stop();
    List<TrainerStep> steps = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
    long deadLetterOnly = steps.stream().filter(x -> x.getBatchSize() < 2).count();
    long rejected = steps.stream().mapToLong(TrainerStep::getRejected).sum();
    long trained = steps.stream().mapToLong(TrainerStep::getBatchSize).sum();
    assertEquals(2000, rejected);
    assertEquals(64, trained);
    assertTiled(steps, Map.of(0, 2064L));
    List<ConsumerRecord<byte[], byte[]>> letters = readAll(cluster, prefix + ".dlq", 2000);
    assertEquals(2000, letters.size());
    for (ConsumerRecord<byte[], byte[]> r : letters) {
      assertEquals("DESERIALIZE", DeadLetter.from(r.headers()).orElseThrow().reason().name());
    }
    System.out.printf(
        "garbage flood: 2000 'hello' records + 64 frames in %.1f s: %d steps (%d dead-letter-only),"
            + " %d dead letters, %d frames trained%n",
        seconds, steps.size(), deadLetterOnly, letters.size(), trained);
  }

  @Test
  void aRegistryOutagePausesTheTrainerAndNoGoodFrameIsDeadLettered(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("outage");
    String frames = prefix + ".frames";
    String subject = frames + "-value";
    cluster.createTopic(frames, 1);
    // A registry of this test's own (its store on the shared broker), to stop and start.
    EmbeddedSchemaRegistry registry =
        EmbeddedSchemaRegistry.start(cluster.bootstrapServers(), 0, prefix + "._schemas");
    int port = registry.port();
    String url = registry.url();
    AtomicLong published = new AtomicLong();
    AtomicLong recoveries = new AtomicLong();
    AtomicLong steps = new AtomicLong();
    Map<String, String> s = settings(prefix, keys);
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "60000"); // full batches of 8 only
    s.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, "2");
    s.put(TrainerConfig.PUBLISH_EVERY_SECONDS_CONFIG, "0");
    StreamTrainer trainer =
        new StreamTrainer(
            TrainerConfig.of(s),
            cluster.bootstrapServers(),
            url,
            new TrainerListener() {
              @Override
              public void onStep(
                  long step,
                  double loss,
                  int images,
                  long rejected,
                  long skipped,
                  double ips,
                  long lag) {
                steps.set(step);
              }

              @Override
              public void onPublished(io.mocostream.schemas.EncoderVersion version) {
                published.incrementAndGet();
              }

              @Override
              public void onRecovered(long step, String cause) {
                recoveries.incrementAndGet();
              }
            });
    CompletableFuture<Long> result = new CompletableFuture<>();
    Running r = new Running(trainer, result, steps);
    try {
      TestFrames.send(cluster.bootstrapServers(), url, frames, 8, i -> false);
      Thread t =
          new Thread(
              () -> {
                try {
                  result.complete(trainer.run());
                } catch (Throwable e) {
                  result.completeExceptionally(e);
                }
              },
              "outage-trainer");
      t.setDaemon(true);
      t.start();
      await(() -> steps.get() >= 1, Duration.ofMinutes(2), "step 1", r);
      int v1;
      int v2;
      int v3;
      Schema v2Schema = withExtraField("note");
      Schema v3Schema = withExtraField("note3");
      try (SchemaRegistryClient client = new SchemaRegistryClient(RegistryClientConfig.of(url))) {
        v1 = client.register(subject, ImageFrame.getClassSchema());
        v2 = client.register(subject, v2Schema);
        v3 = client.register(subject, v3Schema);
      }

      // 1. The registry goes away before the first commit, whose version and checkpoint schemas are
      // not cached: the
      //    commit fails once, and the trainer waits for the registry instead of rolling back again
      // and again.
      registry.close();
      registry = null;
      try (KafkaProducer<byte[], byte[]> producer = rawProducer(cluster)) {
        for (int i = 0; i < 8; i++) {
          producer.send(
              new ProducerRecord<>(
                  frames,
                  "cam".getBytes(StandardCharsets.UTF_8),
                  genericFrame(ImageFrame.getClassSchema(), v1, 100 + i)));
        }
        for (int i = 0; i < 16; i++) {
          producer.send(
              new ProducerRecord<>(
                  frames,
                  "cam".getBytes(StandardCharsets.UTF_8),
                  genericFrame(v2Schema, v2, 200 + i)));
        }
        producer.flush();
      }
      Thread.sleep(
          12_000); // longer than MAX_ROLLBACKS_WITHOUT_PROGRESS quick roll-backs used to take
      assertFalse(result.isDone(), "the trainer is alive during the outage: " + result);
      assertEquals(0, published.get());
      assertTrue(recoveries.get() <= 1, recoveries.get() + " roll-backs during one outage");
      registry =
          EmbeddedSchemaRegistry.start(cluster.bootstrapServers(), port, prefix + "._schemas");
      await(
          () -> steps.get() >= 4 && published.get() >= 2,
          Duration.ofMinutes(2),
          "4 steps committed",
          r);

      // 2. The registry goes away again, and frames arrive with a schema id the trainer has not
      // cached: it pauses
      //    on the first of them and reads it once the registry is back; none is dead-lettered.
      registry.close();
      registry = null;
      try (KafkaProducer<byte[], byte[]> producer = rawProducer(cluster)) {
        for (int i = 0; i < 8; i++) {
          producer.send(
              new ProducerRecord<>(
                  frames,
                  "cam".getBytes(StandardCharsets.UTF_8),
                  genericFrame(v3Schema, v3, 300 + i)));
        }
        producer.flush();
      }
      Thread.sleep(5000);
      assertFalse(result.isDone(), "the trainer is alive during the outage: " + result);
      assertEquals(4, steps.get(), "no step formed while the registry is down");
      registry =
          EmbeddedSchemaRegistry.start(cluster.bootstrapServers(), port, prefix + "._schemas");
      await(
          () -> steps.get() >= 5,
          Duration.ofMinutes(2),
          "the frames read after the registry came back",
          r);
      r.stop();
      List<TrainerStep> log = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
      assertEquals(40, log.stream().mapToLong(TrainerStep::getBatchSize).sum());
      assertEquals(
          0, log.stream().mapToLong(TrainerStep::getRejected).sum(), "nothing dead-lettered");
      assertEquals(0, readAll(cluster, prefix + ".dlq", 1).size(), "nothing dead-lettered");
      assertEquals(1, recoveries.get());
    } finally {
      trainer.stop();
      if (registry != null) {
        registry.close();
      }
    }
  }

  /** ImageFrame with one more optional field: a compatible version with an id of its own. */
  private static Schema withExtraField(String name) {
    return new Schema.Parser()
        .parse(
            ImageFrame.getClassSchema()
                .toString()
                .replaceFirst(
                    "\"fields\"\\s*:\\s*\\[",
                    "\"fields\":[{\"name\":\""
                        + name
                        + "\",\"type\":[\"null\",\"string\"],\"default\":null},"));
  }

  @Test
  void aFloodOf16MegapixelFramesAtBatch64TrainsInALimitedHeap(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("mpx");
    String frames = prefix + ".frames";
    cluster.createTopic(frames, 1);
    byte[] jpeg = bigJpeg(4000, 4000); // 16 Mpx: 48 MB as RGB, 3 GB for a batch of 64 decoded whole
    try (KafkaProducer<byte[], byte[]> producer = rawProducer(cluster);
        SchemaRegistryClient client =
            new SchemaRegistryClient(RegistryClientConfig.of(cluster.registryUrl()))) {
      int id = client.register(frames + "-value", ImageFrame.getClassSchema());
      for (int i = 0; i < 64; i++) {
        ImageFrame f =
            ImageFrame.newBuilder()
                .setSourceId("cam-" + i % 2)
                .setSequence(i)
                .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + i))
                .setContentType(ContentType.JPEG)
                .setData(ByteBuffer.wrap(jpeg))
                .setWidth(4000)
                .setHeight(4000)
                .setLabel(null)
                .build();
        producer.send(
            new ProducerRecord<>(
                frames, ("cam-" + i % 2).getBytes(StandardCharsets.UTF_8), wire(id, f)));
      }
      producer.flush();
    }
    Map<String, String> s = settings(prefix, keys);
    s.put(TrainerConfig.BATCH_SIZE_CONFIG, "64");
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "60000");
    s.put(TrainerConfig.MAX_STEPS_CONFIG, "1");
    // A child JVM with a 1 GiB heap: a third of what 64 whole decoded frames would need.
    try (TrainerChild child =
        TrainerChild.launch("mpx", cluster.bootstrapServers(), cluster.registryUrl(), s)) {
      child.await(
          e -> e.kind().equals("STEP"), Duration.ofMinutes(4), "a step of 64 16-Mpx frames");
      child.await(e -> e.kind().equals("DONE"), Duration.ofMinutes(2), "the end of the run");
    }
    List<TrainerStep> steps = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
    assertEquals(1, steps.size());
    assertEquals(64, steps.get(0).getBatchSize());
    assertFalse(steps.get(0).getSkipped());
  }

  @Test
  void aRetentionGapIsLoggedRecordedAndTrainingContinuesFromTheLogStart(
      KafkaCluster cluster, @TempDir Path keys) throws Exception {
    String prefix = EmbeddedKafka.uniqueName("gap");
    String frames = prefix + ".frames";
    cluster.createTopic(frames, 1);
    TestFrames.send(cluster.bootstrapServers(), cluster.registryUrl(), frames, 40, i -> false);
    Map<String, String> s = settings(prefix, keys);
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "60000");
    s.put(TrainerConfig.MAX_STEPS_CONFIG, "2");
    new StreamTrainer(TrainerConfig.of(s), cluster.bootstrapServers(), cluster.registryUrl(), null)
        .run();
    // Retention deletes past the committed position (16).
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      admin
          .deleteRecords(Map.of(new TopicPartition(frames, 0), RecordsToDelete.beforeOffset(30)))
          .all()
          .get(30, TimeUnit.SECONDS);
    }
    TestFrames.send(cluster.bootstrapServers(), cluster.registryUrl(), frames, 14, i -> false);
    s.put(TrainerConfig.MAX_STEPS_CONFIG, "5");
    new StreamTrainer(TrainerConfig.of(s), cluster.bootstrapServers(), cluster.registryUrl(), null)
        .run();

    List<TrainerStep> steps = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
    assertEquals(5, steps.size());
    TrainerStep third = steps.get(2);
    assertEquals(List.of(new StepSegment(frames, 0, 16L, 30L)), third.getRetentionGaps());
    assertEquals(30, third.getSegments().get(0).getFromOffset());
    for (TrainerStep x : steps) {
      assertEquals(8, x.getBatchSize());
      if (x != third) {
        assertEquals(List.of(), x.getRetentionGaps());
      }
    }
    assertEquals(
        54, steps.get(4).getSegments().get(steps.get(4).getSegments().size() - 1).getToOffset());
    assertEquals(
        0, readAll(cluster, prefix + ".dlq", 1).size(), "the gap is not dead-lettered: it is gone");
  }

  @Test
  void aPartitionAddedWhileTrainingIsReadWithoutARestart(KafkaCluster cluster, @TempDir Path keys)
      throws Exception {
    String prefix = EmbeddedKafka.uniqueName("grow");
    String frames = prefix + ".frames";
    cluster.createTopic(frames, 1);
    TestFrames.send(cluster.bootstrapServers(), cluster.registryUrl(), frames, 16, i -> false);
    Map<String, String> s = settings(prefix, keys);
    s.put(TrainerConfig.MAX_WAIT_MS_CONFIG, "60000");
    s.put(TrainerConfig.PARTITIONS_CHECK_MS_CONFIG, "1000");
    Running r = start(TrainerConfig.of(s), cluster.bootstrapServers(), cluster.registryUrl());
    try {
      await(() -> r.steps.get() >= 2, Duration.ofMinutes(2), "2 steps on partition 0", r);
      try (Admin admin =
          Admin.create(
              Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
        admin
            .createPartitions(Map.of(frames, NewPartitions.increaseTo(2)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      try (KafkaProducer<byte[], byte[]> producer = rawProducer(cluster);
          SchemaRegistryClient client =
              new SchemaRegistryClient(RegistryClientConfig.of(cluster.registryUrl()))) {
        int id = client.register(frames + "-value", ImageFrame.getClassSchema());
        for (int i = 0; i < 16; i++) {
          byte[] px = new byte[16 * 16];
          for (int k = 0; k < px.length; k++) {
            px[k] = (byte) ((k * 7 + i * 13) % 251);
          }
          ImageFrame f =
              ImageFrame.newBuilder()
                  .setSourceId("new-cam")
                  .setSequence(i)
                  .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + i))
                  .setContentType(ContentType.RAW_GREY)
                  .setData(ByteBuffer.wrap(px))
                  .setWidth(16)
                  .setHeight(16)
                  .setLabel(null)
                  .build();
          producer.send(
              new ProducerRecord<>(
                  frames, 1, "new-cam".getBytes(StandardCharsets.UTF_8), wire(id, f)));
        }
        producer.flush();
      }
      await(() -> r.steps.get() >= 4, Duration.ofMinutes(2), "2 steps on the new partition", r);
      r.stop();
    } finally {
      r.trainer.stop();
    }
    List<TrainerStep> steps = StreamTrainerTest.readSteps(cluster, prefix + ".steps");
    assertTiled(steps, Map.of(0, 16L, 1, 16L));
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------------------------

  /**
   * The step log's segments of each partition follow each other from 0 to {@code ends} with no gap
   * or overlap.
   */
  private static void assertTiled(List<TrainerStep> steps, Map<Integer, Long> ends) {
    Map<Integer, List<long[]>> ranges = new TreeMap<>();
    for (TrainerStep s : steps) {
      for (StepSegment seg : s.getSegments()) {
        ranges
            .computeIfAbsent(seg.getPartition(), k -> new ArrayList<>())
            .add(new long[] {seg.getFromOffset(), seg.getToOffset()});
      }
    }
    assertEquals(ends.keySet(), ranges.keySet(), "partitions in the step log");
    ranges.forEach(
        (p, list) -> {
          list.sort((a, b) -> Long.compare(a[0], b[0]));
          long next = 0;
          for (long[] r : list) {
            assertEquals(
                next,
                r[0],
                "gap or overlap in the step log of partition " + p + " at offset " + r[0]);
            next = r[1];
          }
          assertEquals(ends.get(p), next, "partition " + p + " covered up to");
        });
  }

  private static long trainedSoFar(KafkaCluster cluster, String prefix) {
    return StreamTrainerTest.readSteps(cluster, prefix + ".steps").stream()
        .mapToLong(TrainerStep::getBatchSize)
        .sum();
  }

  private static KafkaProducer<byte[], byte[]> rawProducer(KafkaCluster cluster) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            cluster.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            16 << 20,
            ProducerConfig.LINGER_MS_CONFIG,
            5),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  private static KafkaConsumer<byte[], byte[]> committedReader(KafkaCluster cluster, String topic) {
    KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                16 << 20,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer());
    List<TopicPartition> parts =
        c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    c.assign(parts);
    c.seekToBeginning(parts);
    return c;
  }

  /**
   * The committed records of {@code topic}: polls until {@code atLeast} or 3 s without a new one.
   */
  private static List<ConsumerRecord<byte[], byte[]>> readAll(
      KafkaCluster cluster, String topic, int atLeast) {
    List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = committedReader(cluster, topic)) {
      long quietSince = System.nanoTime();
      while (System.nanoTime() - quietSince < Duration.ofSeconds(3).toNanos()) {
        var got = c.poll(Duration.ofMillis(200));
        got.forEach(all::add);
        if (!got.isEmpty()) {
          quietSince = System.nanoTime();
        }
        if (all.size() >= atLeast && atLeast > 1 && got.isEmpty()) {
          break;
        }
      }
    }
    return all;
  }

  private static byte[] wire(int id, ImageFrame frame) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    new org.apache.avro.specific.SpecificDatumWriter<>(ImageFrame.class).write(frame, enc);
    enc.flush();
    return out.toByteArray();
  }

  private static byte[] genericFrame(Schema v2, int id, int i) throws Exception {
    GenericRecord g = new GenericData.Record(v2);
    byte[] px = new byte[16 * 16];
    for (int k = 0; k < px.length; k++) {
      px[k] = (byte) ((k * 3 + i * 11) % 253);
    }
    for (Schema.Field f : v2.getFields()) {
      if (f.name().startsWith("note")) {
        g.put(f.name(), "written while the registry was down");
      }
    }
    g.put("sourceId", "cam");
    g.put("sequence", (long) i);
    g.put("captureTime", 1_700_000_000_000L + i);
    g.put(
        "contentType", new GenericData.EnumSymbol(v2.getField("contentType").schema(), "RAW_GREY"));
    g.put("data", ByteBuffer.wrap(px));
    g.put("width", 16);
    g.put("height", 16);
    g.put("label", null);
    g.put("attributes", Map.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(v2).write(g, enc);
    enc.flush();
    return out.toByteArray();
  }

  private static byte[] bigJpeg(int w, int h) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        row[x] = ((x >> 4) & 0xFF) << 16 | ((y >> 4) & 0xFF) << 8 | (((x >> 3) ^ (y >> 3)) & 0x3F);
      }
      img.setRGB(0, y, w, 1, row, 0, w);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, "jpeg", out));
    assertNotNull(out);
    return out.toByteArray();
  }
}
