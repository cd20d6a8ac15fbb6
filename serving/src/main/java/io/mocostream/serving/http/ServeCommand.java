package io.mocostream.serving.http;

import io.mocostream.encoder.client.ModelSource;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.metrics.Health;
import io.mocostream.metrics.MetricsEndpoint;
import io.mocostream.metrics.MetricsServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * {@code mocostream serve}: follows a model on the model topic with a {@link LiveEncoder} and
 * serves it over HTTP ({@link EmbeddingService}). The service is live at once and ready when the
 * first verified version is loaded; later versions swap in without a failed request.
 */
public final class ServeCommand {
  private ServeCommand() {}

  /**
   * A started service and its encoder; closing stops both (the service first, then the encoder).
   */
  public static final class Running implements AutoCloseable {
    private final EmbeddingService service;
    private final LiveEncoder encoder;
    private final MetricsServer metrics;
    private final CountDownLatch closed = new CountDownLatch(1);

    Running(EmbeddingService service, LiveEncoder encoder, MetricsServer metrics) {
      this.service = service;
      this.encoder = encoder;
      this.metrics = metrics;
    }

    /**
     * The {@code --metrics-port} endpoint, when one was asked for (the service's own port has
     * /metrics too).
     */
    public Optional<MetricsServer> metrics() {
      return Optional.ofNullable(metrics);
    }

    public EmbeddingService service() {
      return service;
    }

    public LiveEncoder encoder() {
      return encoder;
    }

    /** Blocks until {@link #close()}. */
    public void awaitClosed() throws InterruptedException {
      closed.await();
    }

    @Override
    public synchronized void close() {
      if (closed.getCount() == 0) {
        return;
      }
      try {
        if (metrics != null) {
          metrics.close();
        }
        service.close();
      } finally {
        encoder.close();
        closed.countDown();
      }
    }
  }

  /**
   * Loads the trusted keys, starts the live encoder and the HTTP service. Does not wait for a
   * version: the service answers 503 on {@code /health/ready} and {@code /v1/embed} until one
   * serves.
   *
   * @throws IllegalArgumentException when the trusted keys cannot be loaded (the message names the
   *     path)
   * @throws UncheckedIOException when the address cannot be bound
   */
  public static Running start(ServeOptions o) {
    return start(o, MetricsEndpoint.OFF);
  }

  /**
   * {@link #start(ServeOptions)}, and when {@code metrics} is enabled a second endpoint with the
   * same {@code /metrics}, {@code /health/live} and {@code /health/ready} on its own port, as every
   * long-running command has: a scraper or probe may reach it where the embedding port is not
   * exposed.
   */
  public static Running start(ServeOptions o, MetricsEndpoint metrics) {
    LiveEncoder encoder =
        LiveEncoder.builder(source(o))
            .policy(o.policy())
            .decodeLimits(o.limits())
            .highWaterMarks(o.highWaterFile())
            .maxAge(o.maxAge())
            .build();
    try {
      EmbeddingService service = EmbeddingService.start(o, encoder);
      MetricsServer endpoint = null;
      try {
        if (metrics.enabled()) {
          endpoint =
              MetricsServer.start(
                  metrics.host(),
                  metrics.port(),
                  service.meterRegistry(),
                  () ->
                      encoder
                          .current()
                          .map(c -> Health.Status.ready("serving version " + c.version()))
                          .orElseGet(
                              () ->
                                  Health.Status.notReady(
                                      "no verified version of model "
                                          + o.model()
                                          + " on "
                                          + o.topic()
                                          + " yet")));
        }
        encoder.start();
      } catch (RuntimeException e) {
        if (endpoint != null) {
          endpoint.close();
        }
        service.close();
        throw e;
      }
      return new Running(service, encoder, endpoint);
    } catch (IOException e) {
      encoder.close();
      throw new UncheckedIOException(
          "cannot listen on " + o.host() + ":" + o.port() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      encoder.close();
      throw e;
    }
  }

  /**
   * The model these options name, trusting the keys in {@code o.trust()}, reached with {@code
   * o.clients()}.
   */
  static ModelSource source(ServeOptions o) {
    return ModelSource.of(o.bootstrap(), o.registryUrl(), o.model())
        .withTopic(o.topic())
        .withTrust(TrustedKeys.load(o.trust()))
        .withClientOverrides(o.clients().consumer(Map.of()));
  }

  /**
   * Serves until the JVM shuts down (Ctrl-C: a shutdown hook stops the service and the encoder) or
   * the thread is interrupted. Prints the address and the endpoints first.
   */
  public static void run(ServeOptions o, PrintStream out) throws InterruptedException {
    run(o, MetricsEndpoint.OFF, out);
  }

  /**
   * {@link #run(ServeOptions, PrintStream)} with a separate metrics and health endpoint on {@code
   * metrics}.
   */
  public static void run(ServeOptions o, MetricsEndpoint metrics, PrintStream out)
      throws InterruptedException {
    Running running = start(o, metrics);
    Thread hook = new Thread(running::close, "serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    String base = running.service().uri().toString();
    out.println(
        "serving model "
            + o.model()
            + " from "
            + o.topic()
            + " on "
            + base
            + " (auth: "
            + (o.token() == null ? "none" : "bearer token")
            + ")");
    out.println(
        "  POST "
            + base
            + EmbeddingService.EMBED_PATH
            + "   GET "
            + base
            + EmbeddingService.MODELS_PATH
            + "   GET "
            + base
            + EmbeddingService.READY_PATH
            + "   GET "
            + base
            + EmbeddingService.METRICS_PATH);
    running
        .metrics()
        .ifPresent(
            m ->
                out.println(
                    "  metrics and health also on " + m.uri() + MetricsServer.METRICS_PATH));
    out.println(
        "ready once a verified version of "
            + o.model()
            + " arrives (trusting "
            + o.trust()
            + ")"
            + (o.highWaterFile() == null
                ? ""
                : "; never below the high-water mark in " + o.highWaterFile())
            + (o.maxAge() == null
                ? ""
                : "; none created more than " + o.maxAge().toSeconds() + " s ago"));
    out.flush();
    try {
      running.awaitClosed();
    } finally {
      running.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }
}
