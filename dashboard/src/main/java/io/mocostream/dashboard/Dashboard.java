package io.mocostream.dashboard;

import io.mocostream.encoder.client.ModelSource;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionGate;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.GradMode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mocostream dashboard}: follows the topics and serves a live page. Nothing is kept but what
 * the topics hold, so it can start at any time against any cluster.
 *
 * <ul>
 *   <li>the step log ({@code trainer.steps}) and the dead-letter topic, from their beginning
 *       ({@link TopicFollower});
 *   <li>per model, a {@link VersionSubscriber} from the start of the model topic: a version appears
 *       on the page only once its SHA-256 and its Ed25519 signature by a trusted key verify, like
 *       every other reader; refusals are counted by reason;
 *   <li>every few seconds the trainers' lag ({@link LagMonitor}) and the newest frames ({@link
 *       FrameSampler});
 *   <li>on one analysis thread, the probe baselines and the neighbour strip of each model's newest
 *       verified version ({@link ProbeAnalysis}); a version that arrives while one is analysed
 *       replaces the one waiting.
 * </ul>
 */
public final class Dashboard implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dashboard.class);

  private final DashboardOptions options;
  private final DashboardState state = new DashboardState();
  private final TrustedKeys keys;
  private final TopicFollower follower;
  private final Thread followerThread;
  private final ScheduledExecutorService sampler;
  private final ExecutorService analysis;
  private final ProbeAnalysis probe;
  private final Map<String, VersionSubscriber> subscribers = new ConcurrentHashMap<>();
  private final Map<String, AtomicReference<VerifiedVersion>> pending = new ConcurrentHashMap<>();
  private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
  private final AtomicReference<String> framesTopic = new AtomicReference<>();
  private final DashboardServer server;
  private final CountDownLatch closed = new CountDownLatch(1);

  private Dashboard(DashboardOptions o) throws IOException {
    this.options = o;
    this.keys =
        TrustedKeys.load(o.trust()); // refuses a missing or group-writable key file, naming it
    this.probe = new ProbeAnalysis(o.probe(), o.probeBank(), o.probeQueries());
    this.framesTopic.set(o.framesTopic());
    this.follower =
        new TopicFollower(o, state, this::follow, t -> framesTopic.compareAndSet(null, t));
    this.followerThread = new Thread(follower, "dashboard-topics");
    this.followerThread.setDaemon(true);
    this.sampler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dashboard-sampler"));
    this.analysis = Executors.newSingleThreadExecutor(r -> daemon(r, "dashboard-analysis"));
    this.server = DashboardServer.start(o.host(), o.port(), state);
  }

  /**
   * Starts following and serving.
   *
   * @throws IllegalArgumentException when the trusted keys cannot be loaded (the message names the
   *     path)
   * @throws UncheckedIOException when the address cannot be bound
   */
  public static Dashboard start(DashboardOptions o) {
    Dashboard d;
    try {
      d = new Dashboard(o);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on " + o.host() + ":" + o.port() + ": " + e.getMessage(), e);
    }
    try {
      for (String m : o.models()) {
        d.follow(m);
      }
      d.followerThread.start();
      LagMonitor lag = new LagMonitor(o);
      d.closeables.add(lag);
      FrameSampler frames = new FrameSampler(o);
      d.closeables.add(frames);
      d.sampler.scheduleWithFixedDelay(() -> d.sample(lag, frames), 0, 3, TimeUnit.SECONDS);
      return d;
    } catch (RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public URI uri() {
    return server.uri();
  }

  /** Starts following {@code model}'s versions (once). */
  private synchronized void follow(String model) {
    if (subscribers.containsKey(model)) {
      return;
    }
    state.addModel(model);
    pending.put(model, new AtomicReference<>());
    AtomicReference<VersionGate> gate = new AtomicReference<>();
    VersionSubscriber s =
        VersionSubscriber.builder(
                ModelSource.of(options.bootstrap(), options.registryUrl(), model)
                    .withTopic(options.versionsTopic())
                    .withTrust(keys)
                    .withClientOverrides(options.clients().consumer(Map.of())))
            .startPosition(StartPosition.EARLIEST)
            .listener(
                new VersionListener() {
                  @Override
                  public void onAccepted(VerifiedVersion v) {
                    state.version(model, v.manifest(), v.partition(), v.offset());
                    Optional<VersionGate.Refusal> no =
                        gate.get() == null
                            ? Optional.empty()
                            : gate.get().checkLoadable(v.manifest());
                    if (no.isPresent()) {
                      state.refused(model, no.get().reason().name());
                      return;
                    }
                    if (probe.enabled()) {
                      pending.get(model).set(v);
                      analysis.execute(() -> analyse(model));
                    }
                  }

                  @Override
                  public void onRefused(RefusedVersion r) {
                    state.refused(model, r.reason().name());
                  }
                })
            .build();
    gate.set(s.gate());
    subscribers.put(model, s);
    s.start();
  }

  private void analyse(String model) {
    VerifiedVersion v = pending.get(model).getAndSet(null);
    if (v == null) {
      return; // a later task took it
    }
    EncoderVersion m = v.manifest();
    try {
      GradMode
          .disableOnThisThread(); // forward passes only; autograd is on by default on threads other
      // than the first
      Architecture arch = Architecture.fromAvro(m.getArchitecture());
      state.baselines(model, probe.baselines(arch));
      state.neighbours(model, probe.neighbours(m, arch, v.payload()));
    } catch (
        Throwable e) { // a version that cannot be analysed is reported, and the next one is tried
      state.error(
          "model " + model + " version " + m.getVersion() + ": neighbour strip failed: " + e);
      log.warn("model {} version {}: analysis failed: {}", model, m.getVersion(), e.toString(), e);
    }
  }

  private void sample(LagMonitor lag, FrameSampler frames) {
    for (String model : state.modelNames()) {
      try {
        lag.measure(model, state);
      } catch (Throwable e) {
        state.error("lag of model " + model + ": " + e);
      }
    }
    String topic = framesTopic.get();
    if (topic != null) {
      try {
        frames.sample(topic, state);
      } catch (Throwable e) {
        state.error("sampling frames of " + topic + ": " + e);
      }
    }
  }

  /** What the page shows now (the JSON of {@code /api/state}). */
  Map<String, Object> snapshot() {
    return state.snapshot();
  }

  /** Blocks until {@link #close()}. */
  public void awaitClosed() throws InterruptedException {
    closed.await();
  }

  @Override
  public void close() {
    if (closed.getCount() == 0) {
      return;
    }
    server.close();
    follower.stop();
    followerThread.interrupt();
    sampler.shutdownNow();
    analysis.shutdownNow();
    try {
      sampler.awaitTermination(10, TimeUnit.SECONDS);
      analysis.awaitTermination(30, TimeUnit.SECONDS);
      followerThread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    subscribers.values().forEach(VersionSubscriber::close);
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        log.debug("closing {}: {}", c, e.toString());
      }
    }
    closed.countDown();
  }

  /**
   * Runs until the JVM shuts down (Ctrl-C) or the thread is interrupted; prints the address first.
   */
  public static void run(DashboardOptions o, PrintStream out) throws InterruptedException {
    Dashboard d = start(o);
    Thread hook = new Thread(d::close, "dashboard-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    out.println(
        "dashboard on "
            + d.uri()
            + " following "
            + o.stepsTopic()
            + ", "
            + o.versionsTopic()
            + ", "
            + o.dlqTopic()
            + " on "
            + o.bootstrap()
            + " (versions verified with "
            + o.trust()
            + ")");
    out.flush();
    try {
      d.awaitClosed();
    } finally {
      d.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }
}
