package io.mocostream.producer;

import io.mocostream.frames.FrameLimits;
import io.mocostream.metrics.CommandMetrics;
import io.mocostream.metrics.MetricsEndpoint;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.producer.publish.FramePublisher;
import io.mocostream.producer.publish.PublishException;
import io.mocostream.producer.publish.ServiceCheck;
import io.mocostream.producer.source.CorrelatedSource;
import io.mocostream.producer.source.DirSource;
import io.mocostream.producer.source.FrameSource;
import io.mocostream.producer.source.IdxSource;
import io.mocostream.producer.source.SyntheticSource;
import io.mocostream.producer.validate.FrameValidator;
import io.mocostream.registry.client.ClientSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mocostream produce}: the plain Java entry point a CLI calls.
 *
 * <p>Order: parse the source spec and open the source (bad input fails before any network); check
 * that broker and registry answer and the topic exists (down services fail within {@link
 * ServiceCheck#DEFAULT_TIMEOUT}); stream; print the summary. Ctrl-C (JVM shutdown) stops the run,
 * waits for outstanding acknowledgements and still prints the summary.
 */
public final class ProduceCommand {
  private static final Logger log = LoggerFactory.getLogger(ProduceCommand.class);

  /**
   * Bytes kept free under the topic's max.message.bytes for the key, Avro fields and record
   * headers.
   */
  static final long FRAME_ENVELOPE_BYTES = 4096;

  private static final long SHUTDOWN_WAIT_SECONDS = 45;

  private ProduceCommand() {}

  /**
   * Runs {@code produce} to the end (source exhausted, {@code --max}, or stopped) and returns what
   * it did; the summary is also printed to {@code out}.
   *
   * @throws ProduceException for a bad option or input, a service that is down, or a send that
   *     failed; the message names the input or the service, {@link
   *     ProduceException#partialSummary()} what was done
   */
  public static ProduceSummary run(ProduceOptions opts, PrintStream out) {
    return run(opts, MetricsEndpoint.OFF, out);
  }

  /**
   * {@link #run(ProduceOptions, PrintStream)} with Prometheus metrics and health probes on {@code
   * metrics} (see {@link ProducerMetrics}): meant for the long-running modes, {@code http:} and
   * {@code --watch}.
   */
  public static ProduceSummary run(ProduceOptions opts, MetricsEndpoint metrics, PrintStream out) {
    SourceSpec spec;
    try {
      spec = SourceSpec.parse(opts.source());
    } catch (IllegalArgumentException e) {
      throw new ProduceException(e.getMessage(), e);
    }
    if (opts.watch() && !(spec instanceof SourceSpec.Dir)) {
      throw new ProduceException(
          "--watch applies to dir: sources only, not '" + opts.source() + "'", null);
    }
    if (opts.loop() && opts.watch()) {
      throw new ProduceException(
          "--loop and --watch exclude each other: a watched folder never ends", null);
    }
    if (spec instanceof SourceSpec.Http http) {
      if (opts.loop() || opts.rate() > 0) {
        throw new ProduceException(
            "--loop and --rate apply to pulled sources, not to the upload endpoint '"
                + opts.source()
                + "' (clients decide when they upload)",
            null);
      }
      return execute(opts, null, http, metrics, out);
    }
    FrameSource source = openSource(spec, opts);
    try {
      return execute(opts, source, null, metrics, out);
    } finally {
      closeQuietly(source);
    }
  }

  /**
   * {@code produce --correlated}: the source of {@code opts} shown as the interleaved feeds of a
   * few fixed cameras (see {@link CorrelatedSource}). Pulled sources only.
   */
  public static ProduceSummary runCorrelated(
      ProduceOptions opts, CorrelatedSource.Settings correlation, PrintStream out) {
    SourceSpec spec;
    try {
      spec = SourceSpec.parse(opts.source());
    } catch (IllegalArgumentException e) {
      throw new ProduceException(e.getMessage(), e);
    }
    if (spec instanceof SourceSpec.Http || opts.watch()) {
      throw new ProduceException(
          "--correlated applies to idx:, dir: and synthetic sources, not to '"
              + opts.source()
              + "'"
              + (opts.watch() ? " with --watch" : ""),
          null);
    }
    FrameSource source = new CorrelatedSource(openSource(spec, opts), correlation);
    try {
      return execute(opts, source, null, MetricsEndpoint.OFF, out);
    } finally {
      closeQuietly(source);
    }
  }

  /**
   * Publishes from a source the caller built (benchmarks, embedding applications): the same checks,
   * validation, publishing and summary as {@link #run(ProduceOptions, PrintStream)}; {@code
   * opts.source()} is then only a label. The caller closes the source.
   */
  public static ProduceSummary run(ProduceOptions opts, FrameSource source, PrintStream out) {
    return execute(opts, source, null, MetricsEndpoint.OFF, out);
  }

  private static ProduceSummary execute(
      ProduceOptions opts,
      FrameSource source,
      SourceSpec.Http http,
      MetricsEndpoint metrics,
      PrintStream out) {
    try (CommandMetrics meters =
        CommandMetrics.start(
            metrics, "starting: checking the broker, registry and topic " + opts.topic())) {
      return execute(opts, source, http, meters, out);
    }
  }

  private static ProduceSummary execute(
      ProduceOptions opts,
      FrameSource source,
      SourceSpec.Http http,
      CommandMetrics meters,
      PrintStream out) {
    ServiceCheck.TopicInfo topic;
    try {
      topic =
          ServiceCheck.check(
              opts.bootstrap(),
              opts.registryUrl(),
              opts.topic(),
              ServiceCheck.DEFAULT_TIMEOUT,
              ClientSettings.of(opts.producerProps() == null ? Map.of() : opts.producerProps()));
    } catch (PublishException e) {
      throw new ProduceException(e.getMessage(), e);
    }
    FrameLimits limits = fitToTopic(opts.limits(), topic);
    FrameValidator validator = new FrameValidator(limits);
    String description = source != null ? source.describe() : "upload endpoint " + opts.source();
    FramePublisher publisher;
    try {
      publisher =
          new FramePublisher(
              opts.bootstrap(),
              opts.registryUrl(),
              opts.topic(),
              limits.maxBytes(),
              opts.producerProps());
    } catch (PublishException e) {
      throw new ProduceException(e.getMessage(), e);
    }
    boolean failed = true;
    try (Progress progress = Progress.create(opts.progress(), opts.topic(), opts.max())) {
      ProduceRun run =
          new ProduceRun(
              description,
              validator,
              publisher,
              new ProduceRun.Settings(opts.rate(), opts.max(), opts.loop()),
              progress);
      ProducerMetrics.bind(meters.registry(), run, opts.topic());
      meters.health(ProducerMetrics.health(run, description));
      ProduceSummary summary =
          withShutdownHook(
              run,
              () ->
                  source != null
                      ? run.pull(source)
                      : serve(
                          http,
                          validator,
                          run,
                          opts.sourceId() != null ? opts.sourceId() : defaultSourceId(http),
                          opts.uploadToken(),
                          out));
      progress.close();
      out.print(summary.format());
      out.flush();
      failed = false;
      return summary;
    } catch (ProduceException e) {
      if (e.partialSummary() != null) {
        out.print(e.partialSummary().format());
        out.flush();
      }
      throw e;
    } catch (PublishException e) {
      throw new ProduceException(e.getMessage(), e);
    } finally {
      // After a failure nothing more will be acknowledged: do not wait the producer's close timeout
      // for it.
      publisher.close(
          failed
              ? Duration.ZERO
              : Duration.ofSeconds(FramePublisher.DEFAULT_DELIVERY_TIMEOUT_MS / 1000));
    }
  }

  private static ProduceSummary serve(
      SourceSpec.Http spec,
      FrameValidator validator,
      ProduceRun run,
      String sourceId,
      String token,
      PrintStream out) {
    try (FrameEndpoint endpoint =
        FrameEndpoint.start(
            spec.host(),
            spec.port(),
            validator,
            run,
            sourceId,
            FrameEndpoint.DEFAULT_THREADS,
            FrameEndpoint.DEFAULT_QUEUE,
            token)) {
      out.println("upload endpoint: POST images to " + endpoint.framesUri() + " (Ctrl-C to stop)");
      out.flush();
      return run.awaitStop();
    } catch (IOException e) {
      throw new ProduceException(
          "cannot listen on " + spec.host() + ":" + spec.port() + ": " + e.getMessage(), e);
    }
  }

  /**
   * On JVM shutdown (Ctrl-C), stop the run and give it time to drain, so the summary still comes
   * out.
   */
  private static ProduceSummary withShutdownHook(
      ProduceRun run, java.util.function.Supplier<ProduceSummary> body) {
    CountDownLatch done = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              run.stop();
              try {
                done.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "produce-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return body.get();
    } finally {
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // The JVM is already shutting down: the hook is running and returns once done is counted
        // down.
      }
    }
  }

  /**
   * Lowers the byte limit when the topic would not accept frames that big (Kafka's default is ~1
   * MB).
   */
  static FrameLimits fitToTopic(FrameLimits limits, ServiceCheck.TopicInfo topic) {
    long fits = topic.maxMessageBytes() - FRAME_ENVELOPE_BYTES;
    if (fits < limits.maxBytes() && fits > 0) {
      // A few KiB off the 16 MiB default to fit a 16 MiB broker limit is routine; a large cut is
      // worth telling.
      boolean routine = fits >= limits.maxBytes() * 0.99;
      (routine ? log.atDebug() : log.atInfo())
          .log(
              "byte limit lowered from {} to {} to fit max.message.bytes={} of topic {}",
              limits.maxBytes(),
              fits,
              topic.maxMessageBytes(),
              topic.name());
      return new FrameLimits(fits, limits.maxPixels());
    }
    return limits;
  }

  static FrameSource openSource(SourceSpec spec, ProduceOptions opts) {
    String id = opts.sourceId() != null ? opts.sourceId() : defaultSourceId(spec);
    try {
      if (spec instanceof SourceSpec.Dir d) {
        if (!Files.isDirectory(d.path())) {
          throw new ProduceException(
              "source folder "
                  + d.path()
                  + (Files.exists(d.path()) ? " is not a directory" : " does not exist"),
              null);
        }
        return new DirSource(d.path(), id, new FrameValidator(opts.limits()), opts.watch());
      }
      if (spec instanceof SourceSpec.Idx x) {
        requireFile(x.images(), "IDX images");
        if (x.labels() != null) {
          requireFile(x.labels(), "IDX labels");
        }
        return new IdxSource(x.images(), x.labels(), id, opts.limits());
      }
      if (spec instanceof SourceSpec.Synthetic s) {
        return new SyntheticSource(s.classes(), opts.seed(), id);
      }
      throw new IllegalArgumentException("an http source is served, not pulled: " + spec);
    } catch (IOException e) {
      throw new ProduceException("cannot open " + opts.source() + ": " + e.getMessage(), e);
    }
  }

  private static void requireFile(Path p, String what) {
    if (!Files.isRegularFile(p)) {
      throw new ProduceException(
          what + " file " + p + (Files.exists(p) ? " is not a regular file" : " does not exist"),
          null);
    }
    if (!Files.isReadable(p)) {
      throw new ProduceException(what + " file " + p + " is not readable", null);
    }
  }

  /** Folder name, IDX images file name without extensions, {@code synthetic}, or {@code upload}. */
  static String defaultSourceId(SourceSpec spec) {
    if (spec instanceof SourceSpec.Dir d) {
      Path name = d.path().toAbsolutePath().normalize().getFileName();
      return name == null ? "root" : name.toString();
    }
    if (spec instanceof SourceSpec.Idx x) {
      String name = x.images().getFileName().toString();
      return name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    }
    return spec instanceof SourceSpec.Synthetic ? "synthetic" : "upload";
  }

  private static void closeQuietly(FrameSource source) {
    if (source != null) {
      try {
        source.close();
      } catch (IOException e) {
        log.debug("closing {}: {}", source.describe(), e.toString());
      }
    }
  }
}
