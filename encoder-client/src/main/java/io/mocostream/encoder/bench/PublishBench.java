package io.mocostream.encoder.bench;

import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.PayloadChunks;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.schemas.ArchitectureSpec;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.schemas.OffsetRange;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Publish-to-subscriber latency of a ResNet-18-sized encoder version: from the moment {@link
 * EncoderPublisher#publishInOwnTransaction} is called (SHA-256, signing, sending the chunks and the
 * manifest, committing) until a running {@link VersionSubscriber}'s listener holds the reassembled,
 * hash- and signature-checked payload. One warm-up version (schema registration, metadata, JIT) is
 * not counted. The last line printed is {@code publish_to_subscriber_ms=<median>}.
 */
public final class PublishBench {
  /** Parameters of a CIFAR ResNet-18 with its MLP head, saved by DJL: ~44.7 MB. */
  public static final int RESNET18_PAYLOAD_BYTES = 44_700_000;

  public static final int DEFAULT_VERSIONS = 5;
  private static final long SEED = 0x5EED_0F_B15L;
  private static final String MODEL = "bench-resnet18";

  private PublishBench() {}

  private record Arrival(VerifiedVersion version, RefusedVersion refused, long nanos) {}

  /**
   * Runs the bench on a fresh model topic of the given cluster and returns the last line it
   * printed.
   */
  public static String run(
      String bootstrap, String registryUrl, int payloadBytes, int versions, PrintStream out) {
    if (payloadBytes < 1 || versions < 1) {
      throw new IllegalArgumentException(
          "payloadBytes and versions must be >= 1, got " + payloadBytes + ", " + versions);
    }
    String runId = UUID.randomUUID().toString().substring(0, 8);
    String topic = "bench.encoder.versions." + runId;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      ModelTopics.ensure(admin, topic);
    }
    ModelSigner signer = ModelSigning.generate();
    BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
    VersionListener listener =
        new VersionListener() {
          @Override
          public void onAccepted(VerifiedVersion v) {
            arrivals.add(new Arrival(v, null, System.nanoTime()));
          }

          @Override
          public void onRefused(RefusedVersion r) {
            arrivals.add(new Arrival(null, r, System.nanoTime()));
          }
        };
    // Deterministic pseudo-random weights: incompressible like real float32 parameters.
    byte[] payload = new byte[payloadBytes];
    new SplittableRandom(SEED).nextBytes(payload);
    EncoderPublisher publisher = new EncoderPublisher(topic, signer);
    out.printf(
        Locale.ROOT,
        "publish_bench topic=%s payload_bytes=%d chunks=%d chunk_bytes=%d versions=%d%n",
        topic,
        payloadBytes,
        PayloadChunks.chunkCount(payloadBytes, publisher.chunkSize()),
        publisher.chunkSize(),
        versions);
    List<Double> totals = new ArrayList<>();
    try (VersionSubscriber subscriber =
            VersionSubscriber.builder(bootstrap, registryUrl, MODEL)
                .topic(topic)
                .trustedKeys(signer.trustedKeys())
                .startPosition(StartPosition.NEWEST)
                .listener(listener)
                .build()
                .start();
        KafkaProducer<String, Object> producer =
            EncoderPublisher.createProducer(bootstrap, registryUrl, "bench-publisher-" + runId)) {
      if (!subscriber.awaitPositioned(Duration.ofSeconds(60))) {
        throw new IllegalStateException("subscriber not positioned on " + topic + " within 60 s");
      }
      for (int v = 1; v <= versions + 1; v++) {
        boolean warmUp = v == 1;
        ByteBuffer.wrap(payload)
            .putLong(0, v); // each version differs; the previous one is fully sent
        long t0 = System.nanoTime();
        publisher.publishInOwnTransaction(producer, draft(v), payload);
        long published = System.nanoTime();
        Arrival a = arrivals.poll(120, TimeUnit.SECONDS);
        if (a == null) {
          throw new IllegalStateException(
              "version " + v + " did not reach the subscriber within 120 s");
        }
        if (a.refused() != null) {
          throw new IllegalStateException(
              "the subscriber refused version " + v + ": " + a.refused());
        }
        if (a.version().version() != v || !Arrays.equals(a.version().payload(), payload)) {
          throw new IllegalStateException(
              "the subscriber delivered version "
                  + a.version().version()
                  + " with "
                  + (Arrays.equals(a.version().payload(), payload) ? "the same" : "other")
                  + " bytes, expected"
                  + " version "
                  + v);
        }
        double publishMs = (published - t0) / 1e6;
        double totalMs = (a.nanos() - t0) / 1e6;
        out.printf(
            Locale.ROOT,
            "version=%d%s publish_ms=%.1f publish_to_subscriber_ms=%.1f%n",
            v,
            warmUp ? " (warm-up, not counted)" : "",
            publishMs,
            totalMs);
        if (!warmUp) {
          totals.add(totalMs);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bench interrupted", e);
    }
    String last = String.format(Locale.ROOT, "publish_to_subscriber_ms=%.1f", median(totals));
    out.println(last);
    out.flush();
    return last;
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static EncoderVersion.Builder draft(long version) {
    return EncoderVersion.newBuilder()
        .setModelName(MODEL)
        .setVersion(version)
        .setParentVersion(version > 1 ? version - 1 : null)
        .setArchitecture(
            ArchitectureSpec.newBuilder()
                .setBackbone("resnet18-cifar")
                .setHead("mlp")
                .setEmbeddingDim(128)
                .setFeatureDim(512)
                .setChannels(3)
                .setInputSize(32)
                .setParams(Map.of())
                .build())
        .setStep(version * 1000)
        .setCreatedAt(Instant.ofEpochMilli(0))
        .setLineage(
            Lineage.newBuilder()
                .setRanges(List.of(new OffsetRange("frames.train", 0, 0L, version * 1000)))
                .setStepLogTopic("trainer.steps")
                .setFirstStep(0)
                .setLastStep(version * 1000)
                .build())
        .setMetrics(
            Metrics.newBuilder().setLoss(null).setKnnTop1(null).setImagesPerSecond(null).build())
        .setConfigFingerprint("0".repeat(64));
  }

  /** {@code PublishBench <bootstrap> <registryUrl> [payloadBytes] [versions]}. */
  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println(
          "usage: PublishBench <bootstrap> <registryUrl> [payloadBytes="
              + RESNET18_PAYLOAD_BYTES
              + "] [versions="
              + DEFAULT_VERSIONS
              + "]");
      System.exit(2);
    }
    int bytes = args.length > 2 ? Integer.parseInt(args[2]) : RESNET18_PAYLOAD_BYTES;
    int versions = args.length > 3 ? Integer.parseInt(args[3]) : DEFAULT_VERSIONS;
    run(args[0], args[1], bytes, versions, System.out);
  }
}
