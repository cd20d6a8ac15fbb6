package io.mocostream.serving.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.live.CurrentVersion;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.encoder.live.SwapListener;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.serving.http.EmbeddingService;
import io.mocostream.serving.http.ServeOptions;
import io.mocostream.vision.model.Architecture;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Embedding requests against the HTTP service while a new encoder version is published mid-run.
 *
 * <p>Set-up: a fresh model topic, a generated Ed25519 signing key, two versions of the architecture
 * (default {@value #DEFAULT_ARCH}: a ResNet-18-sized payload of ~45 MB) with real weights; version
 * 1 is published and served by a {@link LiveEncoder} behind an {@link EmbeddingService} on
 * loopback. {@code concurrency} threads then POST distinct PNGs of the model's input size with
 * {@link HttpClient} (HTTP/1.1, one request in flight per thread) for a warm-up of {@value
 * #WARM_UP_SECONDS} s (not counted), then for {@code seconds}. Half-way, version 2, signed and
 * hashed beforehand, is sent in one transaction.
 *
 * <p>Figures (last line {@code embed_rps=<x> p99_ms=<y> swap_max_ms=<z> failed=<n>}):
 *
 * <ul>
 *   <li>{@code embed_rps}: 200 answers per second of the measured run;
 *   <li>{@code p99_ms}: 99th percentile of the latency of every measured request, sent to received;
 *   <li>{@code swap_max_ms}: the longest latency among the requests in flight while the swap
 *       happened, the swap being the interval from the first byte of version 2 sent to the live
 *       encoder serving it (the subscriber reading and verifying 45 MB, the weights loading and
 *       warming up, the reference switch). A request is in flight then if it started before the
 *       interval's end and ended after its start;
 *   <li>{@code failed}: answers other than 200 and requests that got no answer.
 * </ul>
 *
 * The goal: {@code failed=0} and {@code swap_max_ms} under twice {@code p99_ms}, i.e. a swap costs
 * the requests it overlaps no more than the slowest one percent of ordinary requests already pay.
 * Requests that started after the swap and were still answered by version 1 are counted as {@code
 * stale_after_swap} (must be 0).
 */
public final class ServeBench {
  public static final String DEFAULT_ARCH = Architecture.RESNET18_CIFAR;
  public static final int DEFAULT_CONCURRENCY = 8;
  public static final int DEFAULT_SECONDS = 30;
  static final int WARM_UP_SECONDS = 3;
  static final int IMAGES = 16;
  private static final String MODEL = "bench-serve";
  private static final ObjectMapper JSON = new ObjectMapper();

  private ServeBench() {}

  /**
   * One request: when it was sent and answered (nanoTime), its status (-1: no answer) and version.
   */
  record Sample(long start, long end, int status, long version) {
    double millis() {
      return (end - start) / 1e6;
    }
  }

  /** Figures of a run. */
  public record Result(
      double embedRps,
      double p99Ms,
      double swapMaxMs,
      long failed,
      long requests,
      long inFlightDuringSwap,
      long staleAfterSwap,
      double swapMs) {
    public String lastLine() {
      return String.format(
          Locale.ROOT,
          "embed_rps=%.1f p99_ms=%.1f swap_max_ms=%.1f failed=%d",
          embedRps,
          p99Ms,
          swapMaxMs,
          failed);
    }
  }

  /** {@link #run(String, String, String, int, int, PrintStream)} with {@value #DEFAULT_ARCH}. */
  public static Result run(
      String bootstrap, String registryUrl, int concurrency, int seconds, PrintStream out) {
    return run(bootstrap, registryUrl, DEFAULT_ARCH, concurrency, seconds, out);
  }

  /**
   * Runs the bench on the given cluster and returns its figures, having printed them (last line as
   * documented).
   */
  public static Result run(
      String bootstrap,
      String registryUrl,
      String arch,
      int concurrency,
      int seconds,
      PrintStream out) {
    if (concurrency < 1 || seconds < 2) {
      throw new IllegalArgumentException(
          "concurrency must be >= 1 and seconds >= 2, got " + concurrency + ", " + seconds);
    }
    Architecture architecture = Architecture.parse(arch);
    String runId = UUID.randomUUID().toString().substring(0, 8);
    String topic = "bench.serve.versions." + runId;
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      ModelTopics.ensure(admin, topic);
    }
    ModelSigner signer = ModelSigning.generate();
    EncoderPublisher publisher = new EncoderPublisher(topic, signer);
    byte[] v1 = SyntheticVersions.weights(architecture, 1);
    byte[] v2 = SyntheticVersions.weights(architecture, 2);
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      images.add(SyntheticVersions.png(architecture.inputSize(), architecture.channels(), i));
    }
    out.printf(
        Locale.ROOT,
        "serve_bench arch=%s payload_bytes=%d concurrency=%d seconds=%d topic=%s%n",
        architecture,
        v1.length,
        concurrency,
        seconds,
        topic);

    BlockingQueue<long[]> accepted = new LinkedBlockingQueue<>(); // {version, nanoTime, swapMillis}
    BlockingQueue<RefusedVersion> refused = new LinkedBlockingQueue<>();
    SwapListener listener =
        new SwapListener() {
          @Override
          public void onAccepted(CurrentVersion version, long swapMillis) {
            accepted.add(new long[] {version.version(), System.nanoTime(), swapMillis});
          }

          @Override
          public void onRefused(RefusedVersion r) {
            refused.add(r);
          }
        };
    ServeOptions options =
        ServeOptions.defaults(bootstrap, registryUrl, MODEL)
            .withModelTopic(topic, null)
            .withListen("127.0.0.1", 0)
            .withThreads(
                Math.max(ServeOptions.DEFAULT_THREADS, concurrency),
                ServeOptions.DEFAULT_QUEUE_CAPACITY);
    try (KafkaProducer<String, Object> producer =
            EncoderPublisher.createProducer(bootstrap, registryUrl, "bench-serve-" + runId);
        LiveEncoder encoder =
            LiveEncoder.builder(bootstrap, registryUrl, MODEL)
                .topic(topic)
                .trustedKeys(signer.trustedKeys())
                .listener(listener)
                .build()) {
      publisher.publishInOwnTransaction(
          producer, SyntheticVersions.draft(MODEL, 1, architecture, 0.5), v1);
      encoder.start();
      if (!encoder.awaitReady(Duration.ofSeconds(120))) {
        throw new IllegalStateException("version 1 not served within 120 s; refused: " + refused);
      }
      // Hashing and signing now, so that the swap interval holds only what a serving process sees.
      EncoderPublisher.Prepared next =
          publisher.prepare(SyntheticVersions.draft(MODEL, 2, architecture, 0.6), v2);
      try (EmbeddingService service = EmbeddingService.start(options, encoder)) {
        HttpClient client =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        URI uri = service.uri().resolve(EmbeddingService.EMBED_PATH);
        load(
            client,
            uri,
            images,
            concurrency,
            WARM_UP_SECONDS,
            () -> {}); // warm-up: JIT, connections, PyTorch
        long[] swap = new long[2];
        List<Sample> samples =
            load(
                client,
                uri,
                images,
                concurrency,
                seconds,
                () -> {
                  try {
                    Thread.sleep(seconds * 500L);
                    swap[0] = System.nanoTime();
                    producer.beginTransaction();
                    publisher.send(producer, next);
                    producer.commitTransaction();
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    long[] a;
                    do { // version 1's notification may still be queued: listeners run after
                      // awaitReady returns
                      a =
                          accepted.poll(
                              Math.max(1, until - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } while (a != null && a[0] != 2);
                    if (a == null) {
                      throw new IllegalStateException(
                          "version 2 not served within 120 s of publishing; refused: " + refused);
                    }
                    swap[1] = a[1];
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
        Result r = figures(samples, swap[0], swap[1]);
        out.printf(
            Locale.ROOT,
            "requests=%d ok=%d in_flight_during_swap=%d stale_after_swap=%d swap_ms=%.1f"
                + " live_swap_ms=%d versions_refused=%d%n",
            r.requests(),
            r.requests() - r.failed(),
            r.inFlightDuringSwap(),
            r.staleAfterSwap(),
            r.swapMs(),
            encoder.lastSwapMillis(),
            encoder.refusedCount());
        out.println(r.lastLine());
        out.flush();
        return r;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Drives {@code concurrency} threads for {@code seconds}, each posting images in turn, while
   * {@code during} runs on the calling thread; returns every request's sample.
   */
  static List<Sample> load(
      HttpClient client,
      URI uri,
      List<byte[]> images,
      int concurrency,
      int seconds,
      Runnable during) {
    ExecutorService pool =
        Executors.newFixedThreadPool(
            concurrency,
            r -> {
              Thread t = new Thread(r, "serve-bench-client");
              t.setDaemon(true);
              return t;
            });
    CountDownLatch go = new CountDownLatch(1);
    long[] deadline = new long[1];
    List<Future<List<Sample>>> futures = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      int offset = c;
      futures.add(
          pool.submit(
              () -> {
                go.await();
                List<Sample> samples = new ArrayList<>();
                for (int i = offset; System.nanoTime() < deadline[0]; i += concurrency) {
                  samples.add(post(client, uri, images.get(i % images.size())));
                }
                return samples;
              }));
    }
    deadline[0] = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    go.countDown();
    List<Sample> all = new ArrayList<>();
    try {
      during.run();
      for (Future<List<Sample>> f : futures) {
        all.addAll(f.get(seconds + 180L, TimeUnit.SECONDS));
      }
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("bench client thread failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("bench interrupted", e);
    } finally {
      pool.shutdownNow();
    }
    return all;
  }

  private static Sample post(HttpClient client, URI uri, byte[] image) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .header("Content-Type", "image/png")
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofByteArray(image))
            .build();
    long t0 = System.nanoTime();
    try {
      HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
      long t1 = System.nanoTime();
      long version = -1;
      if (response.statusCode() == 200) {
        JsonNode body = JSON.readTree(response.body());
        version = body.path("version").asLong(-1);
      }
      return new Sample(t0, t1, response.statusCode(), version);
    } catch (IOException e) {
      return new Sample(t0, System.nanoTime(), -1, -1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Sample(t0, System.nanoTime(), -1, -1);
    }
  }

  /**
   * The figures of a measured run whose swap lasted from {@code swapStart} to {@code swapEnd}
   * (nanoTime).
   */
  static Result figures(List<Sample> samples, long swapStart, long swapEnd) {
    if (samples.isEmpty()) {
      throw new IllegalStateException("no request completed");
    }
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    long failed = 0;
    long ok = 0;
    long inFlight = 0;
    long stale = 0;
    double swapMax = 0;
    double[] latencies = new double[samples.size()];
    int i = 0;
    for (Sample s : samples) {
      first = Math.min(first, s.start());
      last = Math.max(last, s.end());
      latencies[i++] = s.millis();
      if (s.status() == 200) {
        ok++;
      } else {
        failed++;
      }
      if (s.start() < swapEnd && s.end() > swapStart) {
        inFlight++;
        swapMax = Math.max(swapMax, s.millis());
      }
      if (s.start() > swapEnd && s.status() == 200 && s.version() != 2) {
        stale++;
      }
    }
    double seconds = (last - first) / 1e9;
    return new Result(
        ok / seconds,
        percentile(latencies, 0.99),
        swapMax,
        failed,
        samples.size(),
        inFlight,
        stale,
        (swapEnd - swapStart) / 1e6);
  }

  /** The {@code q} quantile by the nearest-rank method. */
  static double percentile(double[] values, double q) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** {@code ServeBench <bootstrap> <registryUrl> [concurrency] [seconds] [arch]}. */
  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println(
          "usage: ServeBench <bootstrap> <registryUrl> [concurrency="
              + DEFAULT_CONCURRENCY
              + "] [seconds="
              + DEFAULT_SECONDS
              + "] [arch="
              + DEFAULT_ARCH
              + "]");
      System.exit(2);
    }
    int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : DEFAULT_CONCURRENCY;
    int seconds = args.length > 3 ? Integer.parseInt(args[3]) : DEFAULT_SECONDS;
    String arch = args.length > 4 ? args[4] : DEFAULT_ARCH;
    run(args[0], args[1], arch, concurrency, seconds, System.out);
  }
}
