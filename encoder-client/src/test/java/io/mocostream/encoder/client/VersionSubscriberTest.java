package io.mocostream.encoder.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.PayloadChunks;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.EncoderPublisher.Prepared;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.schemas.EncoderChunk;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The subscriber against a real broker and registry, with records published by EncoderPublisher.
 */
@ExtendWith(KafkaClusterExtension.class)
class VersionSubscriberTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final int CHUNK = 1000; // small chunks: many records from small payloads
  private final ModelSigner signer = ModelSigning.generate();

  private static String topic(KafkaCluster cluster, String name) {
    String topic = "encoder-client." + name + "." + IDS.incrementAndGet();
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      assertTrue(ModelTopics.ensure(admin, topic));
    }
    return topic;
  }

  private static KafkaProducer<String, Object> producer(KafkaCluster cluster) {
    return EncoderPublisher.createProducer(
        cluster.bootstrapServers(),
        cluster.registryUrl(),
        "encoder-client-test-" + IDS.incrementAndGet());
  }

  private VersionSubscriber.Builder subscriber(KafkaCluster cluster, String topic, String model) {
    return VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), model)
        .topic(topic)
        .trustedKeys(signer.trustedKeys());
  }

  /** Collects a subscriber's verdicts. */
  static final class Recorder implements VersionListener {
    final BlockingQueue<VerifiedVersion> accepted = new LinkedBlockingQueue<>();
    final BlockingQueue<RefusedVersion> refused = new LinkedBlockingQueue<>();
    final List<String> order = new ArrayList<>();

    @Override
    public synchronized void onAccepted(VerifiedVersion v) {
      order.add("accepted " + v.version());
      accepted.add(v);
    }

    @Override
    public synchronized void onRefused(RefusedVersion r) {
      order.add("refused " + r.version() + " " + r.reason());
      refused.add(r);
    }

    synchronized List<String> order() {
      return List.copyOf(order);
    }
  }

  private static void pollUntil(VersionSubscriber s, BooleanSupplier done, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "condition not met within " + timeout);
      s.poll(Duration.ofMillis(100));
    }
  }

  @Test
  void threeVersionsArriveVerifiedAndInOrder(KafkaCluster cluster) throws Exception {
    String topic = topic(cluster, "three");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = new EncoderPublisher(topic, signer, CHUNK);
    List<byte[]> payloads =
        List.of(Drafts.payload(2500, 1), Drafts.payload(3000, 2), Drafts.payload(1, 3));
    try (VersionSubscriber sub =
            subscriber(cluster, topic, "resnet")
                .startPosition(StartPosition.EARLIEST)
                .listener(rec)
                .build()
                .start();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      assertTrue(sub.awaitPositioned(Duration.ofSeconds(30)));
      for (int v = 1; v <= 3; v++) {
        EncoderVersion sent =
            publisher.publishInOwnTransaction(
                producer, Drafts.draft("resnet", v), payloads.get(v - 1));
        assertEquals(
            PayloadChunks.chunkCount(payloads.get(v - 1).length, CHUNK), sent.getChunkCount());
      }
      for (int v = 1; v <= 3; v++) {
        VerifiedVersion got = rec.accepted.poll(30, TimeUnit.SECONDS);
        assertNotNull(got, "version " + v + " not delivered");
        assertEquals(v, got.version());
        assertArrayEquals(payloads.get(v - 1), got.payload());
        assertEquals(signer.keyId(), got.manifest().getKeyId());
        assertEquals(Drafts.draft("resnet", v).getLineage(), got.manifest().getLineage());
      }
      assertEquals(3, sub.acceptedCount());
      assertEquals(0, sub.refusedCount());
      assertEquals(3, sub.latest().orElseThrow().version());
    }
    // Two record types on one topic: one subject per record (TopicRecordNameStrategy).
    HttpResponse<String> subjects =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(cluster.registryUrl() + "/subjects")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertTrue(
        subjects.body().contains("\"" + topic + "-io.mocostream.schemas.EncoderChunk\""),
        subjects.body());
    assertTrue(
        subjects.body().contains("\"" + topic + "-io.mocostream.schemas.EncoderVersion\""),
        subjects.body());
  }

  @Test
  void aTamperedChunkIsRefusedAndTheNextVersionStillArrives(KafkaCluster cluster) {
    String topic = topic(cluster, "tampered");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = new EncoderPublisher(topic, signer, CHUNK);
    try (VersionSubscriber sub =
            subscriber(cluster, topic, "resnet")
                .startPosition(StartPosition.EARLIEST)
                .listener(rec)
                .build();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      // A correctly signed manifest whose chunk 1 has one flipped byte, crafted record by record.
      Prepared good = publisher.prepare(Drafts.draft("resnet", 1), Drafts.payload(3000, 4));
      List<EncoderChunk> chunks = new ArrayList<>();
      for (EncoderChunk c : good.chunks()) {
        byte[] data = new byte[c.getData().remaining()];
        c.getData().duplicate().get(data);
        if (c.getIndex() == 1) {
          data[17] ^= 0x01;
        }
        chunks.add(
            new EncoderChunk(
                c.getModelName(),
                c.getVersion(),
                c.getIndex(),
                c.getCount(),
                ByteBuffer.wrap(data)));
      }
      producer.beginTransaction();
      for (EncoderChunk c : chunks) {
        producer.send(new ProducerRecord<>(topic, "resnet", c));
      }
      producer.send(new ProducerRecord<>(topic, "resnet", good.manifest()));
      producer.commitTransaction();
      byte[] second = Drafts.payload(2000, 5);
      publisher.publishInOwnTransaction(producer, Drafts.draft("resnet", 2), second);

      pollUntil(sub, () -> sub.acceptedCount() + sub.refusedCount() >= 2, Duration.ofSeconds(30));
      assertEquals(List.of("refused 1 SHA_MISMATCH", "accepted 2"), rec.order());
      assertTrue(
          rec.refused.peek().message().contains(good.manifest().getPayloadSha256()),
          rec.refused.peek().message());
      assertArrayEquals(second, rec.accepted.peek().payload());
    }
  }

  @Test
  void aVersionSignedByAnUntrustedKeyIsRefused(KafkaCluster cluster) {
    String topic = topic(cluster, "untrusted");
    Recorder rec = new Recorder();
    try (VersionSubscriber sub =
            subscriber(cluster, topic, "resnet")
                .startPosition(StartPosition.EARLIEST)
                .listener(rec)
                .build();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      new EncoderPublisher(topic, ModelSigning.generate(), CHUNK)
          .publishInOwnTransaction(producer, Drafts.draft("resnet", 1), Drafts.payload(1500, 6));
      new EncoderPublisher(topic, signer, CHUNK)
          .publishInOwnTransaction(producer, Drafts.draft("resnet", 2), Drafts.payload(1500, 7));
      pollUntil(sub, () -> sub.acceptedCount() + sub.refusedCount() >= 2, Duration.ofSeconds(30));
      assertEquals(List.of("refused 1 UNKNOWN_KEY", "accepted 2"), rec.order());
      assertEquals(1, sub.refusedCount());
    }
  }

  @Test
  void anAbortedPublishIsNeverDeliveredAndAnOpenOneOnlyAtCommit(KafkaCluster cluster) {
    String topic = topic(cluster, "aborted");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = new EncoderPublisher(topic, signer, CHUNK);
    try (VersionSubscriber sub =
            subscriber(cluster, topic, "resnet")
                .startPosition(StartPosition.EARLIEST)
                .listener(rec)
                .build();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      producer.beginTransaction();
      publisher.publish(producer, Drafts.draft("resnet", 1), Drafts.payload(2500, 8));
      producer.flush(); // the records are in the log, in a transaction about to be aborted
      producer.abortTransaction();

      byte[] payload = Drafts.payload(2500, 9);
      producer.beginTransaction();
      publisher.publish(producer, Drafts.draft("resnet", 2), payload);
      producer.flush();
      // Open transaction: its records are in the log, but read_committed readers must not see them
      // yet.
      long until = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      while (System.nanoTime() < until) {
        sub.poll(Duration.ofMillis(100));
      }
      assertEquals(0, sub.recordsRead(), "nothing visible before the commit");
      producer.commitTransaction();

      pollUntil(sub, () -> sub.acceptedCount() >= 1, Duration.ofSeconds(30));
      for (int i = 0; i < 5; i++) {
        sub.poll(Duration.ofMillis(100));
      }
      assertEquals(List.of("accepted 2"), rec.order());
      assertArrayEquals(payload, rec.accepted.peek().payload());
      assertEquals(
          4,
          sub.recordsRead(),
          "3 chunks and the manifest of version 2; nothing of the aborted one");
      assertTrue(
          sub.lowestOffsetRead() >= 5,
          "the aborted version's 4 records and its marker were skipped");
    }
  }

  @Test
  void newestStartFindsTheLastVersionWithoutReadingTheHistory(KafkaCluster cluster)
      throws Exception {
    String topic = topic(cluster, "newest");
    Recorder rec = new Recorder();
    EncoderPublisher publisher = new EncoderPublisher(topic, signer, CHUNK);
    int versions = 30;
    byte[] last = null;
    try (KafkaProducer<String, Object> producer = producer(cluster)) {
      for (int v = 1; v <= versions; v++) {
        last =
            Drafts.payload(
                2500, 100 + v); // 3 chunks + manifest + commit marker: 5 offsets per version
        publisher.publishInOwnTransaction(producer, Drafts.draft("resnet", v), last);
      }
      try (VersionSubscriber sub =
          subscriber(cluster, topic, "resnet")
              .startPosition(StartPosition.NEWEST)
              .scanWindow(8)
              .listener(rec)
              .build()) {
        pollUntil(sub, () -> sub.acceptedCount() >= 1, Duration.ofSeconds(30));
        for (int i = 0; i < 3; i++) {
          sub.poll(Duration.ofMillis(100));
        }
        assertEquals(List.of("accepted " + versions), rec.order());
        assertArrayEquals(last, rec.accepted.peek().payload());
        // The last manifest sits at 5·30 − 2 = 148; its chunks at 145..147. Only the backward
        // window
        // (offsets 142..149: 8 offsets, 6 records) and the chunks again are read, not the 120
        // records before.
        long total = versions * 4L;
        assertTrue(sub.recordsRead() <= 12, "records read: " + sub.recordsRead() + " of " + total);
        assertEquals(5L * versions - 8, sub.lowestOffsetRead());

        // and it follows from there
        byte[] next = Drafts.payload(1200, 999);
        publisher.publishInOwnTransaction(producer, Drafts.draft("resnet", versions + 1), next);
        pollUntil(sub, () -> sub.acceptedCount() >= 2, Duration.ofSeconds(30));
        assertEquals(List.of("accepted " + versions, "accepted " + (versions + 1)), rec.order());
        assertEquals(0, sub.refusedCount());
      }
    }
  }

  @Test
  void newestStartFindsChunksInterleavedWithAnotherModel(KafkaCluster cluster) {
    String topic = topic(cluster, "interleaved");
    EncoderPublisher publisher = new EncoderPublisher(topic, signer, CHUNK);
    Prepared a = publisher.prepare(Drafts.draft("a", 7), Drafts.payload(2500, 10));
    Prepared b = publisher.prepare(Drafts.draft("b", 3), Drafts.payload(2500, 11));
    try (KafkaProducer<String, Object> producer = producer(cluster)) {
      publisher.publishInOwnTransaction(producer, Drafts.draft("a", 6), Drafts.payload(500, 12));
      // offsets 2..9: a0 b0 a1 b1 a2 b2 A B, as two writers sharing a partition could leave them
      producer.beginTransaction();
      for (int i = 0; i < 3; i++) {
        producer.send(new ProducerRecord<>(topic, "a", a.chunks().get(i)));
        producer.send(new ProducerRecord<>(topic, "b", b.chunks().get(i)));
      }
      producer.send(new ProducerRecord<>(topic, "a", a.manifest()));
      producer.send(new ProducerRecord<>(topic, "b", b.manifest()));
      producer.commitTransaction();
    }
    for (String model : List.of("a", "b")) {
      Recorder rec = new Recorder();
      try (VersionSubscriber sub =
          subscriber(cluster, topic, model)
              .startPosition(StartPosition.NEWEST)
              .listener(rec)
              .build()) {
        pollUntil(sub, () -> sub.acceptedCount() + sub.refusedCount() >= 1, Duration.ofSeconds(30));
        sub.poll(Duration.ofMillis(200));
        assertEquals(List.of("accepted " + (model.equals("a") ? 7 : 3)), rec.order(), model);
        assertTrue(sub.otherModelRecords() > 0, "the other model's records were skipped by key");
      }
    }
  }

  @Test
  void aSubscriberStartedBeforeTheTopicExistsWaitsForIt(KafkaCluster cluster) throws Exception {
    String topic = "encoder-client.late." + IDS.incrementAndGet();
    Recorder rec = new Recorder();
    try (VersionSubscriber sub =
        subscriber(cluster, topic, "resnet").listener(rec).build().start()) {
      assertFalse(sub.awaitPositioned(Duration.ofMillis(1500)));
      try (Admin admin =
          Admin.create(
              Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
        ModelTopics.ensure(admin, topic);
      }
      assertTrue(sub.awaitPositioned(Duration.ofSeconds(30)));
      byte[] payload = Drafts.payload(1800, 13);
      try (KafkaProducer<String, Object> producer = producer(cluster)) {
        new EncoderPublisher(topic, signer, CHUNK)
            .publishInOwnTransaction(producer, Drafts.draft("resnet", 1), payload);
      }
      VerifiedVersion v = rec.accepted.poll(30, TimeUnit.SECONDS);
      assertNotNull(v);
      assertArrayEquals(payload, v.payload());
    }
  }

  @Test
  void aThreeMegabyteVersionWithDefaultChunksFitsATopicWithDefaultLimits(KafkaCluster cluster) {
    String topic = "encoder-client.defaults." + IDS.incrementAndGet();
    cluster.createTopic(topic, 1); // broker defaults: max.message.bytes 1 MiB + 12
    Recorder rec = new Recorder();
    byte[] payload = Drafts.payload(3_000_000, 14);
    try (VersionSubscriber sub =
            subscriber(cluster, topic, "resnet")
                .startPosition(StartPosition.EARLIEST)
                .listener(rec)
                .build();
        KafkaProducer<String, Object> producer = producer(cluster)) {
      EncoderVersion sent =
          new EncoderPublisher(topic, signer)
              .publishInOwnTransaction(producer, Drafts.draft("resnet", 1), payload);
      assertEquals(3, sent.getChunkCount());
      pollUntil(sub, () -> sub.acceptedCount() >= 1, Duration.ofSeconds(60));
      assertArrayEquals(payload, rec.accepted.peek().payload());
      assertEquals(sent, rec.accepted.peek().manifest());
    }
  }
}
