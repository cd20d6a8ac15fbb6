package io.mocostream.serving.http;

import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.live.SwapPolicy;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.frames.FrameLimits;
import io.mocostream.registry.client.ClientSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link ServeCommand} ({@code mocostream serve}) and {@link EmbeddingService}.
 *
 * @param bootstrap Kafka bootstrap servers (where the model topic is)
 * @param registryUrl schema registry URL
 * @param model model name to serve
 * @param topic model topic; null means {@link ModelTopics#DEFAULT_TOPIC}
 * @param trust one PEM file of trusted public key(s), not writable by group or others; null means
 *     {@link ModelSigning#DEFAULT_TRUST} (the trainer's {@code keys/model-signing.pub})
 * @param policy which verified versions to serve; null means {@link SwapPolicy#followLatest()}
 * @param host address to bind; null means {@value #DEFAULT_HOST} (loopback only: pass {@code
 *     0.0.0.0} in a container, ideally with a token)
 * @param port port to bind, 0 for any free one
 * @param token bearer token every {@code /v1/} request must carry ({@code Authorization: Bearer
 *     <token>}); null disables authentication. Health and metrics endpoints stay open for probes
 *     and scrapers. A CLI should read it from {@value #TOKEN_ENV} or a file, not from the command
 *     line (visible in {@code ps})
 * @param maxBytes largest image body accepted (413 beyond it, judged from Content-Length before
 *     reading)
 * @param maxPixels largest width × height accepted (413 beyond it, judged from the image header
 *     before decoding)
 * @param threads HTTP worker threads (requests served at once; forward passes of one version run
 *     one at a time, so more threads mostly queue for the encoder)
 * @param queueCapacity requests that may wait for a worker; beyond that a request is answered 503
 *     at once
 * @param highWaterFile where the highest version accepted is kept across restarts, so a restarted
 *     service never takes a lower one (a downgrade replay: old signed records re-appended to the
 *     model topic); null keeps no file (see {@code HighWaterMarks}). Off by default because the
 *     file must outlive the process to help: put it on a persistent volume, one file per process
 * @param maxAge refuse versions created longer ago than this (protects a first start, before any
 *     high-water mark); null for no limit
 * @param clients Kafka client and registry settings (SASL, TLS, registry auth: {@code
 *     --client-config}) for the model topic's consumer and registry client; null means none (a
 *     plaintext cluster)
 */
public record ServeOptions(
    String bootstrap,
    String registryUrl,
    String model,
    String topic,
    Path trust,
    SwapPolicy policy,
    String host,
    int port,
    String token,
    long maxBytes,
    long maxPixels,
    int threads,
    int queueCapacity,
    Path highWaterFile,
    Duration maxAge,
    ClientSettings clients) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 8080;

  /** 8 MiB: far above any JPEG/PNG an encoder with a 32–224 px input can use. */
  public static final long DEFAULT_MAX_BYTES = 8L << 20;

  public static final long DEFAULT_MAX_PIXELS = FrameLimits.DEFAULT_MAX_PIXELS;
  public static final int DEFAULT_THREADS = 16;
  public static final int DEFAULT_QUEUE_CAPACITY = 256;

  /** Environment variable a CLI reads the bearer token from. */
  public static final String TOKEN_ENV = "MOCOSTREAM_SERVE_TOKEN";

  public ServeOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("--model is required");
    }
    if (topic == null) {
      topic = ModelTopics.DEFAULT_TOPIC;
    }
    if (trust == null) {
      trust = ModelSigning.DEFAULT_TRUST;
    }
    if (policy == null) {
      policy = SwapPolicy.followLatest();
    }
    if (host == null) {
      host = DEFAULT_HOST;
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be 0..65535, got " + port);
    }
    if (token != null && token.isBlank()) {
      throw new IllegalArgumentException(
          "the bearer token is blank; leave it unset to disable authentication");
    }
    if (maxBytes < 1 || maxBytes > Integer.MAX_VALUE - 1) {
      throw new IllegalArgumentException(
          "max bytes must be 1.." + (Integer.MAX_VALUE - 1) + ", got " + maxBytes);
    }
    new FrameLimits(maxBytes, maxPixels); // validates maxPixels
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    if (queueCapacity < 0) {
      throw new IllegalArgumentException("queue capacity must be >= 0, got " + queueCapacity);
    }
    if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
      throw new IllegalArgumentException(
          "--max-age-s must be positive, got " + maxAge.toSeconds() + " s");
    }
    if (clients == null) {
      clients = ClientSettings.NONE;
    }
  }

  /**
   * Every default: serve {@code model} on {@value #DEFAULT_HOST}:{@value #DEFAULT_PORT}, no token.
   */
  public static ServeOptions defaults(String bootstrap, String registryUrl, String model) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        null,
        null,
        null,
        null,
        DEFAULT_PORT,
        null,
        DEFAULT_MAX_BYTES,
        DEFAULT_MAX_PIXELS,
        DEFAULT_THREADS,
        DEFAULT_QUEUE_CAPACITY,
        null,
        null,
        null);
  }

  /** The decode limits of these options. */
  public FrameLimits limits() {
    return new FrameLimits(maxBytes, maxPixels);
  }

  public ServeOptions withListen(String newHost, int newPort) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        policy,
        newHost,
        newPort,
        token,
        maxBytes,
        maxPixels,
        threads,
        queueCapacity,
        highWaterFile,
        maxAge,
        clients);
  }

  public ServeOptions withToken(String newToken) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        policy,
        host,
        port,
        newToken,
        maxBytes,
        maxPixels,
        threads,
        queueCapacity,
        highWaterFile,
        maxAge,
        clients);
  }

  public ServeOptions withLimits(long newMaxBytes, long newMaxPixels) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        policy,
        host,
        port,
        token,
        newMaxBytes,
        newMaxPixels,
        threads,
        queueCapacity,
        highWaterFile,
        maxAge,
        clients);
  }

  public ServeOptions withModelTopic(String newTopic, Path newTrust) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        newTopic,
        newTrust,
        policy,
        host,
        port,
        token,
        maxBytes,
        maxPixels,
        threads,
        queueCapacity,
        highWaterFile,
        maxAge,
        clients);
  }

  public ServeOptions withPolicy(SwapPolicy newPolicy) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        newPolicy,
        host,
        port,
        token,
        maxBytes,
        maxPixels,
        threads,
        queueCapacity,
        highWaterFile,
        maxAge,
        clients);
  }

  public ServeOptions withThreads(int newThreads, int newQueueCapacity) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        policy,
        host,
        port,
        token,
        maxBytes,
        maxPixels,
        newThreads,
        newQueueCapacity,
        highWaterFile,
        maxAge,
        clients);
  }

  /**
   * Keeps the highest version served in {@code file} (null: none) and refuses versions older than
   * {@code age}.
   */
  public ServeOptions withVersionFloor(Path file, Duration age) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        policy,
        host,
        port,
        token,
        maxBytes,
        maxPixels,
        threads,
        queueCapacity,
        file,
        age,
        clients);
  }

  /** Reaches the cluster and the registry with these settings (SASL, TLS, registry credentials). */
  public ServeOptions withClients(ClientSettings newClients) {
    return new ServeOptions(
        bootstrap,
        registryUrl,
        model,
        topic,
        trust,
        policy,
        host,
        port,
        token,
        maxBytes,
        maxPixels,
        threads,
        queueCapacity,
        highWaterFile,
        maxAge,
        newClients);
  }

  /** Never prints the token (nor the client settings, which hold passwords). */
  @Override
  public String toString() {
    return "ServeOptions[model="
        + model
        + ", topic="
        + topic
        + ", bootstrap="
        + bootstrap
        + ", registry="
        + registryUrl
        + ", listen="
        + host
        + ":"
        + port
        + ", auth="
        + (token == null ? "none" : "bearer")
        + ", maxBytes="
        + maxBytes
        + ", maxPixels="
        + maxPixels
        + ", threads="
        + threads
        + ", queue="
        + queueCapacity
        + ", policy="
        + policy
        + ", trust="
        + trust
        + ", highWater="
        + highWaterFile
        + ", maxAge="
        + maxAge
        + ", client="
        + clients.principal()
        + "]";
  }
}
