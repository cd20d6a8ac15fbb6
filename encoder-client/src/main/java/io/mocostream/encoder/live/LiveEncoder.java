package io.mocostream.encoder.live;

import ai.djl.Device;
import io.mocostream.encoder.client.ModelSource;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionGate;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An encoder that follows a model on the model topic and always embeds with the newest version it
 * may serve.
 *
 * <p><b>Following.</b> A {@link VersionSubscriber} (read_committed: an aborted publish is never
 * seen) reassembles each version and checks its SHA-256 and its Ed25519 signature against the
 * trusted keys; refused versions are logged, counted by reason and reported to the {@link
 * SwapListener}s. A verified version then passes the {@link SwapPolicy} ({@code POLICY} refusals),
 * its weights are loaded into the architecture its manifest declares ({@code UNLOADABLE} when they
 * do not fit) and warmed up with one forward pass, all on the subscription thread, off the request
 * path. Start-up enters the topic at its newest committed version by a backward scan (see {@link
 * StartPosition#NEWEST}), so a long topic is not read from its start; a pinned version is looked
 * for from the start of the topic instead.
 *
 * <p><b>Swapping.</b> The serving version is one {@link AtomicReference} to a reference-counted
 * {@link LoadedVersion}. A request takes a reference to whatever is serving when it starts and
 * keeps it to its end; the swap is one reference write, after which new requests get the new
 * version. The retired version drops its serving reference and is closed (its native memory freed)
 * when its last request finishes. No request fails or waits because of a swap, and every request is
 * computed by exactly the version its {@link Embedding} names.
 *
 * <p><b>Embedding.</b> An image is centre-cropped to a square, resized to the version's input size,
 * converted to its channel count and normalised as the trainer normalises ({@code
 * AugmentConfig.mocoV2}'s mean and std); the backbone's pooled features are then L2-normalised (see
 * {@link Embedding}). Thread-safe; one version's forward passes are serialised (the {@link Encoder}
 * has one input buffer), so throughput per process is one forward at a time: batch with {@link
 * #embedAll} to amortise it.
 */
public final class LiveEncoder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveEncoder.class);

  private final String model;
  private final String topic;
  private final SwapPolicy policy;
  private final Device device;
  private final ImageDecoder decoder;
  private final List<SwapListener> listeners;
  private final VersionSubscriber subscriber;

  private final AtomicReference<LoadedVersion> serving = new AtomicReference<>();
  private final CountDownLatch ready = new CountDownLatch(1);
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong swaps = new AtomicLong();
  private final Map<Reason, AtomicLong> refused = new EnumMap<>(Reason.class);
  private final AtomicLong lastSwapMillis = new AtomicLong(-1);
  private final AtomicLong maxSwapMillis = new AtomicLong(-1);
  private final AtomicLong embeddings = new AtomicLong();
  private final AtomicLong retiredClosed = new AtomicLong();
  private final AtomicLong inFlightAtSwaps = new AtomicLong();
  private final AtomicLong listenerFailures = new AtomicLong();
  private volatile boolean started;
  private volatile boolean closed;

  private LiveEncoder(Builder b) {
    this.model = b.source.model();
    this.topic = b.source.topic();
    this.policy = b.policy;
    this.device = b.device;
    this.decoder = new ImageDecoder(b.decodeLimits);
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
    for (Reason r : Reason.values()) {
      refused.put(r, new AtomicLong());
    }
    StartPosition start =
        policy.pinnedVersion().isPresent() ? StartPosition.EARLIEST : StartPosition.NEWEST;
    VersionSubscriber.Builder sb =
        VersionSubscriber.builder(b.source)
            .startPosition(start)
            .listener(new Follower())
            .highWaterMarks(b.highWaterFile)
            .maxAge(b.maxAge);
    if (b.maxPayloadBytes > 0) {
      sb.maxPayloadBytes(b.maxPayloadBytes);
    }
    this.subscriber = sb.build();
  }

  /**
   * A builder for a live encoder of {@code model} on the cluster at {@code bootstrap} with its
   * schema registry. {@link Builder#trustedKeys} is required.
   */
  public static Builder builder(String bootstrap, String registryUrl, String model) {
    return new Builder(ModelSource.of(bootstrap, registryUrl, model));
  }

  /** A builder for a live encoder of the model {@code source} names, trusting its keys. */
  public static Builder builder(ModelSource source) {
    return new Builder(Objects.requireNonNull(source, "source"));
  }

  /** Starts following the model topic on a background thread. Returns this encoder. */
  public synchronized LiveEncoder start() {
    if (closed) {
      throw new IllegalStateException("live encoder of " + model + " on " + topic + " is closed");
    }
    if (started) {
      throw new IllegalStateException(
          "live encoder of " + model + " on " + topic + " already started");
    }
    started = true;
    log.info(
        "live encoder of model {} follows {} ({}, {})",
        model,
        topic,
        policy,
        policy.pinnedVersion().isPresent()
            ? "reading from the start"
            : "entering at the newest version");
    subscriber.start();
    return this;
  }

  /**
   * Waits until a verified version is loaded and serving. Does not throw on interruption: it
   * restores the thread's interrupt flag and answers whether a version is serving.
   *
   * @return whether a version serves
   */
  public boolean awaitReady(Duration timeout) {
    try {
      return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && serving.get() != null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return serving.get() != null;
    }
  }

  /** The version serving now, if any. */
  public Optional<CurrentVersion> current() {
    LoadedVersion v = serving.get();
    return v == null ? Optional.empty() : Optional.of(v.info);
  }

  // ---- embedding
  // -------------------------------------------------------------------------------------------

  /** Embeds one decoded image with the version serving when the call starts. */
  public Embedding embed(DecodedImage image) {
    Objects.requireNonNull(image, "image");
    LoadedVersion v = acquire();
    try {
      Architecture arch = v.info.architecture();
      float[] x = new float[arch.imageFloats()]; // 1×C×S×S
      v.preprocess.center(image, x, 0);
      float[] f = v.encoder.features(x, 1); // 1×F
      embeddings.incrementAndGet();
      return new Embedding(model, v.info.version(), normalise(f, 0, f.length));
    } finally {
      v.release();
    }
  }

  /**
   * Decodes an encoded image (JPEG, PNG, GIF or BMP, recognised by its leading bytes) within the
   * decode limits, then embeds it.
   *
   * @throws FrameRejectedException when the bytes are empty, over a limit, of another format or
   *     undecodable
   */
  public Embedding embed(byte[] imageBytes) {
    return embed(imageBytes, "embed request");
  }

  /** {@link #embed(byte[])}, naming the input {@code input} in a rejection. */
  public Embedding embed(byte[] imageBytes, String input) {
    return embed(decoder.decode(imageBytes, input));
  }

  /**
   * Embeds several images in one forward pass; all are computed by the same version.
   *
   * @return one embedding per image, in order
   */
  public List<Embedding> embedAll(List<DecodedImage> images) {
    Objects.requireNonNull(images, "images");
    if (images.isEmpty()) {
      return List.of();
    }
    LoadedVersion v = acquire();
    try {
      int per = v.info.architecture().imageFloats();
      float[] x = new float[Math.multiplyExact(images.size(), per)]; // n×C×S×S
      for (int i = 0; i < images.size(); i++) {
        v.preprocess.center(Objects.requireNonNull(images.get(i), "image " + i), x, i * per);
      }
      return embedded(v, v.encoder.features(x, images.size()), images.size());
    } finally {
      v.release();
    }
  }

  /**
   * Embeds {@code n} images already preprocessed for the serving version's input: n×C×S×S floats,
   * normalised as {@code Augmenter.center} writes them. The array must hold exactly n·C·S·S floats;
   * since C is 1 or 3 and 3·a² = b² has no integer solution, that length identifies the geometry,
   * so input prepared for a version whose geometry a swap has since changed is refused
   * (IllegalArgumentException naming both) rather than misread.
   */
  public List<Embedding> embed(float[] preprocessed, int n) {
    Objects.requireNonNull(preprocessed, "preprocessed");
    if (n < 1) {
      throw new IllegalArgumentException("n must be >= 1, got " + n);
    }
    LoadedVersion v = acquire();
    try {
      Architecture arch = v.info.architecture();
      if ((long) n * arch.imageFloats() != preprocessed.length) {
        throw new IllegalArgumentException(
            preprocessed.length
                + " floats are not "
                + n
                + " images of "
                + arch.channels()
                + "×"
                + arch.inputSize()
                + "×"
                + arch.inputSize()
                + " ("
                + (long) n * arch.imageFloats()
                + " floats), the input of model "
                + model
                + " version "
                + v.info.version());
      }
      return embedded(v, v.encoder.features(preprocessed, n), n);
    } finally {
      v.release();
    }
  }

  private List<Embedding> embedded(LoadedVersion v, float[] features, int n) {
    int dim = features.length / n; // features: n×F
    List<Embedding> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new Embedding(model, v.info.version(), normalise(features, i * dim, dim)));
    }
    embeddings.addAndGet(n);
    return out;
  }

  /** {@code src[off .. off+dim)} divided by its L2 norm (zeros stay zeros), as a new array. */
  static float[] normalise(float[] src, int off, int dim) {
    double sum = 0;
    for (int i = 0; i < dim; i++) {
      sum += (double) src[off + i] * src[off + i];
    }
    float[] out = Arrays.copyOfRange(src, off, off + dim);
    if (sum > 0) {
      float inv = (float) (1.0 / Math.sqrt(sum));
      for (int i = 0; i < dim; i++) {
        out[i] *= inv;
      }
    }
    return out;
  }

  /** A reference to the serving version; the caller releases it. */
  private LoadedVersion acquire() {
    for (; ; ) {
      LoadedVersion v = serving.get();
      if (v == null) {
        throw new NotReadyException(
            closed
                ? "live encoder of model " + model + " is closed"
                : "no verified version of model " + model + " on " + topic + " is serving yet");
      }
      if (v.tryAcquire()) {
        return v;
      }
      // v was retired and closed between the read and the acquire: the reference already names its
      // successor.
    }
  }

  // ---- following
  // ---------------------------------------------------------------------------------------------

  /** Runs on the subscriber's thread. */
  private final class Follower implements VersionListener {
    @Override
    public void onAccepted(VerifiedVersion verified) {
      long t0 = System.nanoTime();
      EncoderVersion m = verified.manifest();
      String what = "model " + model + " version " + m.getVersion();
      LoadedVersion current = serving.get();
      Optional<CurrentVersion> servingInfo =
          current == null ? Optional.empty() : Optional.of(current.info);
      Optional<String> no;
      try {
        no = policy.refusal(m, servingInfo);
      } catch (Throwable e) {
        no = Optional.of(what + ": swap policy " + policy + " failed: " + e);
      }
      if (no.isPresent()) {
        refuse(verified, Reason.POLICY, no.get());
        return;
      }
      Optional<VersionGate.Refusal> unloadable = subscriber.gate().checkLoadable(m);
      if (unloadable.isPresent()) {
        refuse(verified, unloadable.get().reason(), unloadable.get().message());
        return;
      }
      Architecture arch;
      Encoder encoder;
      try {
        arch = Architecture.fromAvro(m.getArchitecture());
        encoder =
            device == null
                ? Encoder.load(arch, verified.payload())
                : Encoder.load(arch, verified.payload(), device);
      } catch (IllegalArgumentException e) {
        refuse(
            verified,
            Reason.UNLOADABLE,
            what + " is verified but does not load: " + e.getMessage());
        return;
      } catch (Throwable e) {
        // An Error (out of memory on a signed but oversized architecture, a native failure) is this
        // version's
        // refusal, not the end of the subscription thread.
        refuse(verified, Reason.UNLOADABLE, what + " is verified but loading it failed: " + e);
        return;
      }
      try {
        // One forward pass here, so the first requests after the swap do not pay PyTorch's lazy
        // set-up.
        encoder.features(new float[arch.imageFloats()], 1);
      } catch (Throwable e) {
        encoder.close();
        refuse(verified, Reason.UNLOADABLE, what + " loads but its forward pass fails: " + e);
        return;
      }
      LoadedVersion next =
          new LoadedVersion(
              CurrentVersion.of(m, arch, Instant.now()), encoder, retiredClosed::incrementAndGet);
      if (closed) {
        next.release();
        return;
      }
      LoadedVersion old = serving.getAndSet(next); // the swap: later requests get `next`
      long millis = (System.nanoTime() - t0) / 1_000_000;
      int inFlight = 0;
      if (old != null) {
        inFlight =
            Math.max(
                0,
                old.references() - 1); // a snapshot: requests that will finish on the old version
        old.release(); // closed now, or by the last request still using it
        swaps.incrementAndGet();
        inFlightAtSwaps.addAndGet(inFlight);
      }
      accepted.incrementAndGet();
      lastSwapMillis.set(millis);
      maxSwapMillis.accumulateAndGet(millis, Math::max);
      ready.countDown();
      log.info(
          "model {}: serving version {} (step {}, knn_top1 {}) {} ms after verification{}",
          model,
          m.getVersion(),
          m.getStep(),
          next.info.knnTop1().isPresent() ? next.info.knnTop1().getAsDouble() : "-",
          millis,
          old == null
              ? ""
              : "; version "
                  + old.info.version()
                  + " retired with "
                  + inFlight
                  + " request(s) in flight");
      for (SwapListener l : listeners) {
        try {
          l.onAccepted(next.info, millis);
        } catch (Throwable e) {
          listenerFailures.incrementAndGet();
          log.error(
              "swap listener {} failed on model {} version {}: {}",
              l,
              model,
              m.getVersion(),
              e.toString(),
              e);
        }
      }
    }

    @Override
    public void onRefused(RefusedVersion r) {
      // the subscriber has logged it
      countAndReport(r);
    }
  }

  private void refuse(VerifiedVersion v, Reason reason, String message) {
    RefusedVersion r =
        new RefusedVersion(
            model, v.version(), reason, message, v.topic(), v.partition(), v.offset());
    log.warn(
        "refused model {} version {} ({}): {}; {}",
        model,
        v.version(),
        reason,
        r.message(),
        current()
            .map(c -> "version " + c.version() + " keeps serving")
            .orElse("no version serves yet"));
    countAndReport(r);
  }

  private void countAndReport(RefusedVersion r) {
    refused.get(r.reason()).incrementAndGet();
    for (SwapListener l : listeners) {
      try {
        l.onRefused(r);
      } catch (Throwable e) {
        listenerFailures.incrementAndGet();
        log.error(
            "swap listener {} failed on refused model {} version {}: {}",
            l,
            model,
            r.version(),
            e.toString(),
            e);
      }
    }
  }

  // ---- counters
  // ----------------------------------------------------------------------------------------------

  /**
   * Counters of one live encoder at one moment.
   *
   * @param accepted versions put into service (the first one included)
   * @param swaps times a serving version was replaced by a newer one
   * @param refusedByReason versions not served, by reason (the subscriber's refusals and the
   *     encoder's own)
   * @param lastSwapMillis verification to serving of the last version put into service; -1 before
   *     the first
   * @param maxSwapMillis the largest such time; -1 before the first
   * @param embeddings images embedded
   * @param retiredClosed retired versions whose native memory was freed (after their last request)
   * @param inFlightAtSwaps requests running on the retired version at each swap, summed
   * @param listenerFailures swap listener calls that threw
   * @param subscriber the subscription's own counters
   */
  public record Stats(
      long accepted,
      long swaps,
      Map<Reason, Long> refusedByReason,
      long lastSwapMillis,
      long maxSwapMillis,
      long embeddings,
      long retiredClosed,
      long inFlightAtSwaps,
      long listenerFailures,
      VersionSubscriber.Stats subscriber) {

    public Stats {
      refusedByReason = Map.copyOf(refusedByReason);
    }

    /** Versions not served, all reasons. */
    public long refused() {
      return refusedByReason.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Versions not served for {@code reason}. */
    public long refused(Reason reason) {
      return refusedByReason.getOrDefault(reason, 0L);
    }
  }

  /** A snapshot of the counters. Any thread. */
  public Stats stats() {
    return new Stats(
        accepted.get(),
        swaps.get(),
        refusedByReason(),
        lastSwapMillis.get(),
        maxSwapMillis.get(),
        embeddings.get(),
        retiredClosed.get(),
        inFlightAtSwaps.get(),
        listenerFailures.get(),
        subscriber.stats());
  }

  // The getters below are {@link #stats()}'s fields one by one, kept for the serving module's
  // metrics.

  public String model() {
    return model;
  }

  public String topic() {
    return topic;
  }

  public SwapPolicy policy() {
    return policy;
  }

  /** Versions put into service (the first one included). */
  public long acceptedCount() {
    return accepted.get();
  }

  /** Times a serving version was replaced by a newer one. */
  public long swapCount() {
    return swaps.get();
  }

  /** Versions not served, all reasons. */
  public long refusedCount() {
    long n = 0;
    for (AtomicLong c : refused.values()) {
      n += c.get();
    }
    return n;
  }

  /** Versions not served for {@code reason}. */
  public long refusedCount(Reason reason) {
    return refused.get(reason).get();
  }

  /** Refusal counts by reason (every reason present, zeros included). */
  public Map<Reason, Long> refusedByReason() {
    Map<Reason, Long> out = new EnumMap<>(Reason.class);
    refused.forEach((r, c) -> out.put(r, c.get()));
    return out;
  }

  /**
   * Milliseconds from verification to serving of the last version put into service; -1 before the
   * first.
   */
  public long lastSwapMillis() {
    return lastSwapMillis.get();
  }

  /** Largest such time so far; -1 before the first. */
  public long maxSwapMillis() {
    return maxSwapMillis.get();
  }

  /** Images embedded so far. */
  public long embeddingCount() {
    return embeddings.get();
  }

  /** Retired versions whose native memory was freed (after their last request). */
  public long retiredVersionsClosed() {
    return retiredClosed.get();
  }

  /**
   * Requests that were running on the retired version at the moment of each swap, summed over swaps
   * (a snapshot per swap): they finished on the old version while new requests already used the new
   * one.
   */
  public long inFlightAtSwaps() {
    return inFlightAtSwaps.get();
  }

  /** Listener calls that threw. */
  public long listenerFailures() {
    return listenerFailures.get();
  }

  /** Records of the model topic read so far, the start-up scan included. */
  public long recordsRead() {
    return subscriber.recordsRead();
  }

  /**
   * Lowest offset read from the model topic, or -1 before the first record: shows start-up skipped
   * the history.
   */
  public long lowestOffsetRead() {
    return subscriber.lowestOffsetRead();
  }

  /**
   * The last error the subscription met and retried after (broker or registry unreachable), if any.
   */
  public Optional<RuntimeException> lastError() {
    return subscriber.lastError();
  }

  /**
   * Stops following and retires the serving version: requests in flight finish on it, later ones
   * get {@link NotReadyException}. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    subscriber.close(); // waits for the subscription thread: no swap can follow
    LoadedVersion last = serving.getAndSet(null);
    if (last != null) {
      last.release();
    }
    log.info(
        "live encoder of model {} closed ({} versions served, {} refused, {} embeddings)",
        model,
        accepted.get(),
        refusedCount(),
        embeddings.get());
  }

  private static String hex(byte[] data, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(n, data.length); i++) {
      sb.append(String.format("%02x", data[i] & 0xFF));
    }
    return sb.toString();
  }

  /** Settings of a {@link LiveEncoder}. */
  public static final class Builder {
    private ModelSource source;
    private Path highWaterFile;
    private Duration maxAge;
    private SwapPolicy policy = SwapPolicy.followLatest();
    private final List<SwapListener> listeners = new ArrayList<>();
    private Device device;
    private FrameLimits decodeLimits = FrameLimits.DEFAULT;
    private long maxPayloadBytes;

    private Builder(ModelSource source) {
      this.source = source;
    }

    /** The model topic (default {@link ModelTopics#DEFAULT_TOPIC}). */
    public Builder topic(String topic) {
      source = source.withTopic(Objects.requireNonNull(topic, "topic"));
      return this;
    }

    /** The keys whose versions are served (required, here or in the {@link ModelSource}). */
    public Builder trustedKeys(TrustedKeys keys) {
      source = source.withTrust(keys);
      return this;
    }

    /**
     * Keep the highest version served in this file and never serve a lower one, across restarts.
     */
    public Builder highWaterMarks(Path file) {
      this.highWaterFile = file;
      return this;
    }

    /** Refuse versions created longer ago than this ({@code STALE}); default: no limit. */
    public Builder maxAge(Duration age) {
      this.maxAge = age;
      return this;
    }

    /** Which verified versions to serve (default {@link SwapPolicy#followLatest()}). */
    public Builder policy(SwapPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Adds a listener for accepted and refused versions. */
    public Builder listener(SwapListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Where the weights live and forward passes run (default: the CPU). */
    public Builder device(Device device) {
      this.device = Objects.requireNonNull(device, "device");
      return this;
    }

    /** Limits on images given as bytes (default {@link FrameLimits#DEFAULT}). */
    public Builder decodeLimits(FrameLimits limits) {
      this.decodeLimits = Objects.requireNonNull(limits, "decodeLimits");
      return this;
    }

    /** Largest payload accepted (default {@link VersionSubscriber#DEFAULT_MAX_PAYLOAD_BYTES}). */
    public Builder maxPayloadBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxPayloadBytes must be >= 1, got " + bytes);
      }
      this.maxPayloadBytes = bytes;
      return this;
    }

    /**
     * Extra consumer or registry settings (auth, TLS, ...); they win over the subscriber's
     * defaults.
     */
    public Builder consumerConfig(Map<String, ?> config) {
      source = source.withClientOverrides(config);
      return this;
    }

    public LiveEncoder build() {
      source.requireTrust();
      return new LiveEncoder(this);
    }
  }
}
