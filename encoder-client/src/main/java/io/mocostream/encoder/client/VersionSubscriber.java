package io.mocostream.encoder.client;

import io.mocostream.encoder.format.EncoderRecords;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.registry.client.RegistryException;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.schemas.EncoderVersion;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.generic.IndexedRecord;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one model on the model topic and hands each complete version, verified, to its listeners.
 *
 * <p>Reading: a {@link KafkaConsumer} with {@code isolation.level=read_committed} is ASSIGNED every
 * partition of the topic (no consumer group: each subscriber reads everything it needs for itself).
 * Under read_committed a version published in an aborted transaction is never seen, and a committed
 * one is seen whole. Records keyed by other models are skipped without being deserialized.
 *
 * <p>Checks per version, in order: the manifest's Ed25519 signature under the trusted key it names
 * ({@code UNKNOWN_KEY}, {@code BAD_SIGNATURE}), the manifest's sizes ({@code MALFORMED}), every
 * chunk present once ({@code MISSING_CHUNKS}, {@code MALFORMED}), the payload's SHA-256 ({@code
 * SHA_MISMATCH}). The signature is checked on the manifest as written (generic record with the
 * writer's schema), see {@link io.mocostream.encoder.format.SigningInput}.
 *
 * <p>Newest-version start ({@link StartPosition#NEWEST}), per partition, without reading the
 * history: read the last {@code scanWindow} records before the end (the last stable offset under
 * read_committed), look among them, newest first, for a manifest of the model; if there is none,
 * read the window before that, doubling its size, until the log start. The manifest of version v at
 * offset m declares c chunks, and one transaction wrote them in order just before it, so reading
 * starts at m - c, skipping versions below v. If other models' records are interleaved with the
 * chunks (several writers on one partition) and some chunks lie before m - c, reading restarts
 * further back (doubling the distance) until they are all found or the log start is reached. A
 * topic with n versions of c chunks is so entered after reading about {@code scanWindow + c}
 * records instead of n·(c + 1); {@link #recordsRead()} and {@link #lowestOffsetRead()} show it.
 *
 * <p>Only a manifest that {@link VersionGate#checkManifest verifies} and passes the order check may
 * choose the start: the scan goes back past forged, unsigned, malformed, stale or older manifests
 * (each is judged again, and reported, when read in order). So one forged manifest with a huge
 * version cannot make a subscriber ignore every real version below it.
 *
 * <p>Versions are monotonic per model: a verified version not newer than the last one accepted is
 * refused as {@code NOT_NEWER}. With a {@link Builder#highWaterMarks high-water mark file} the last
 * version accepted survives a restart: a restarted subscriber starts at that version or a newer
 * one, never at an older one re-appended to the topic byte for byte. With a {@link Builder#maxAge
 * maximum age}, versions created longer ago are refused as {@code STALE} (this protects a
 * subscriber that has no high-water mark yet).
 *
 * <p>Every record is handled on its own: whatever it does (an unreadable body, a writer schema of
 * another shape, an Error), it becomes a reported refusal ({@code UNREADABLE} or {@code MALFORMED})
 * and the rest of the poll goes on. A registry that cannot be reached is not the record's fault:
 * the partition is read again from that record after a pause.
 *
 * <p>From the earliest offset, a version whose first chunks were already deleted by retention is
 * refused as {@code MISSING_CHUNKS}: reported, like every refusal, rather than skipped silently.
 *
 * <p>Threads: either {@link #start()} a thread of its own (listeners run on it), or call {@link
 * #poll} from one thread. Memory: the chunks of versions in progress, under one byte budget (see
 * {@link VersionAssembler}), and, at a verified manifest, the joined payload; payloads beyond
 * {@link Builder#maxPayloadBytes} are refused before they are kept.
 */
public final class VersionSubscriber implements AutoCloseable {
  /** Default limit on one version's payload: 1 GiB, far above a ResNet-50 (~100 MB). */
  public static final long DEFAULT_MAX_PAYLOAD_BYTES = 1L << 30;

  /** Records read in the first backward window of a newest-version start. */
  public static final int DEFAULT_SCAN_WINDOW = 16;

  /** Largest backward window. */
  public static final int MAX_SCAN_WINDOW = 4096;

  /** How long positioning (topic metadata, newest-version scan) may take. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

  /** Consumer fetch limit per partition: a whole 16 MiB of chunks per round trip. */
  public static final int MAX_PARTITION_FETCH_BYTES = 16 * 1024 * 1024;

  /** Consumer fetch limit per request. */
  public static final int FETCH_MAX_BYTES = 64 * 1024 * 1024;

  private static final Logger log = LoggerFactory.getLogger(VersionSubscriber.class);
  private static final Duration THREAD_POLL = Duration.ofMillis(200);
  private static final AtomicLong CLIENT_IDS = new AtomicLong();

  private final String topic;
  private final String model;
  private final VersionGate gate;
  private final HighWaterMarks highWater;
  private final StartPosition startPosition;
  private final int scanWindow;
  private final Duration startTimeout;
  private final List<VersionListener> listeners;
  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaAvroDeserializer deserializer;
  private final VersionAssembler assembler;

  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final java.util.Map<RefusedVersion.Reason, AtomicLong> refusedByReason =
      new java.util.EnumMap<>(RefusedVersion.Reason.class);
  private final AtomicLong registryPauses = new AtomicLong();
  private volatile long pendingBytes;
  private volatile long pendingBudget;
  private final AtomicLong recordsRead = new AtomicLong();
  private final AtomicLong otherRecords = new AtomicLong();
  private final AtomicLong listenerFailures = new AtomicLong();
  private final AtomicLong lowestOffset = new AtomicLong(Long.MAX_VALUE);
  private final AtomicReference<VerifiedVersion> latest = new AtomicReference<>();
  private final AtomicReference<RuntimeException> lastError = new AtomicReference<>();
  private final CountDownLatch positionedLatch = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(1);

  private boolean positioned;
  // The version a restarted subscriber last accepted (from the high-water mark file), accepted
  // again once.
  private long floor = Long.MIN_VALUE;
  private boolean floorInclusive;
  private boolean waitingLogged;
  private volatile boolean closed;
  private Thread thread;

  private VersionSubscriber(Builder b) {
    ModelSource source = b.source;
    this.topic = source.topic();
    this.model = source.model();
    this.startPosition = b.start;
    this.scanWindow = b.scanWindow;
    this.startTimeout = b.startTimeout;
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
    this.gate = new VersionGate(source.requireTrust(), b.maxPayloadBytes, b.maxAge, b.clock);
    long budget =
        b.maxPendingBytes > 0
            ? b.maxPendingBytes
            : b.maxPayloadBytes
                + (b.maxPayloadBytes / 1000 + 1)
                    * io.mocostream.encoder.format.ChunkCollector.CHUNK_OVERHEAD_BYTES;
    this.assembler = new VersionAssembler(topic, model, gate, budget);
    this.pendingBudget = budget;
    for (RefusedVersion.Reason r : RefusedVersion.Reason.values()) {
      refusedByReason.put(r, new AtomicLong());
    }
    this.highWater = b.highWaterFile == null ? null : new HighWaterMarks(b.highWaterFile);
    if (highWater != null) {
      java.util.OptionalLong mark = highWater.get(topic, model);
      if (mark.isPresent()) {
        floor = mark.getAsLong();
        floorInclusive = true;
        log.info(
            "model {}: versions below {} are refused (high-water mark in {})",
            model,
            floor,
            highWater.file());
      }
    }
    Map<String, Object> config = consumerConfig(source.bootstrap(), source.registryUrl(), model);
    config.putAll(source.clientOverrides());
    this.deserializer = new KafkaAvroDeserializer();
    deserializer.configure(config, false);
    // The consumer gets its own settings only; registry settings are the deserializer's.
    Map<String, Object> consumerOnly = new HashMap<>(config);
    consumerOnly.keySet().retainAll(ConsumerConfig.configNames());
    this.consumer =
        new KafkaConsumer<>(consumerOnly, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * A builder for a subscriber to {@code model} on the cluster at {@code bootstrap} with its
   * registry.
   */
  public static Builder builder(String bootstrap, String registryUrl, String model) {
    return new Builder(ModelSource.of(bootstrap, registryUrl, model));
  }

  /** A builder for a subscriber to the model {@code source} names, trusting its keys. */
  public static Builder builder(ModelSource source) {
    return new Builder(Objects.requireNonNull(source, "source"));
  }

  /**
   * Consumer settings the subscriber uses: read_committed, no group (partitions are assigned), no
   * topic auto-creation (a model topic needs its own settings, see {@link ModelTopics}), fetches
   * sized for ~1 MiB chunks, and a short fetch wait so a committed version is picked up promptly.
   */
  public static Map<String, Object> consumerConfig(
      String bootstrap, String registryUrl, String model) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, registryUrl);
    c.put(
        ConsumerConfig.CLIENT_ID_CONFIG,
        "encoder-subscriber-" + model + "-" + CLIENT_IDS.incrementAndGet());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    // Retention may delete what this subscriber has not read yet: carry on from the oldest retained
    // record.
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_PARTITION_FETCH_BYTES);
    c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, FETCH_MAX_BYTES);
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
    c.put(
        ConsumerConfig.RECEIVE_BUFFER_CONFIG,
        -1); // OS default with autotuning beats the fixed 64 KiB
    return c;
  }

  /** Runs the subscriber on a daemon thread of its own until {@link #close()}. */
  public synchronized VersionSubscriber start() {
    if (closed) {
      throw new IllegalStateException("subscriber to " + model + " on " + topic + " is closed");
    }
    if (thread != null) {
      throw new IllegalStateException(
          "subscriber to " + model + " on " + topic + " already started");
    }
    thread = new Thread(this::runLoop, "encoder-subscriber-" + model);
    thread.setDaemon(true);
    thread.start();
    return this;
  }

  private void runLoop() {
    try {
      while (!closed) {
        try {
          pollOnce(THREAD_POLL);
        } catch (WakeupException | InterruptException e) {
          if (!closed) {
            log.warn("subscriber to {} on {} interrupted; stopping", model, topic);
          }
          break;
        } catch (Throwable e) {
          // Kept and logged, then retried after a pause: an outage, or an Error, must not end the
          // thread.
          lastError.set(
              e instanceof RuntimeException re ? re : new IllegalStateException(e.toString(), e));
          log.error(
              "subscriber to {} on {}: {}; retrying in 1 s", model, topic, Untrusted.text(e), e);
          if (sleepInterrupted(1000)) {
            break;
          }
        }
      }
    } finally {
      closeClients();
      stopped.countDown();
    }
  }

  /**
   * Reads what is available for up to {@code timeout} and runs the listeners for each version
   * completed. Only for subscribers not {@link #start() started}. The first call also positions the
   * subscriber, which may take up to the start timeout.
   *
   * @return versions judged (accepted or refused) during this call
   */
  public int poll(Duration timeout) {
    synchronized (this) {
      if (thread != null) {
        throw new IllegalStateException(
            "subscriber to " + model + " runs on its own thread; do not poll it");
      }
      if (closed) {
        throw new IllegalStateException("subscriber to " + model + " on " + topic + " is closed");
      }
    }
    return pollOnce(timeout);
  }

  private int pollOnce(Duration timeout) {
    if (!positioned && !position(timeout)) {
      return 0;
    }
    ConsumerRecords<String, byte[]> records = consumer.poll(timeout);
    long t0 = records.isEmpty() ? 0 : System.nanoTime();
    int judged = 0;
    Set<Integer> rewound = new HashSet<>();
    boolean registryDown = false;
    for (ConsumerRecord<String, byte[]> r : records) {
      if (closed) {
        break; // closed by a listener
      }
      noteRead(r);
      if (rewound.contains(r.partition())) {
        continue; // read before the rewind; the partition is read again from the rewind offset
      }
      List<VersionAssembler.Outcome> outcomes;
      try {
        outcomes = handle(r);
      } catch (RegistryUnavailable e) {
        // Not the record's fault: read the partition again from this record once the registry
        // answers.
        registryDown = true;
        registryPauses.incrementAndGet();
        log.warn(
            "model {}: schema registry unavailable at {}-{}@{} ({}); reading again from there",
            model,
            r.topic(),
            r.partition(),
            r.offset(),
            Untrusted.text(e.getMessage()));
        consumer.seek(new TopicPartition(topic, r.partition()), r.offset());
        rewound.add(r.partition());
        continue;
      } catch (Throwable e) {
        // One record, whatever it does (an Error included), is one refusal; the rest of the poll
        // goes on.
        outcomes = assembler.onUnreadable(r.partition(), r.offset(), "handling it failed: " + e);
        if (e instanceof VirtualMachineError) {
          log.error(
              "model {}: record {}-{}@{} raised {}",
              model,
              r.topic(),
              r.partition(),
              r.offset(),
              e.toString(),
              e);
        }
      }
      for (VersionAssembler.Outcome outcome : outcomes) {
        if (outcome instanceof VersionAssembler.Rewind rw) {
          log.debug(
              "{}: chunks of the newest version lie before {}; reading {}-{} again from {}",
              model,
              rw.offset(),
              topic,
              rw.partition(),
              rw.offset());
          consumer.seek(new TopicPartition(topic, rw.partition()), rw.offset());
          assembler.reset(rw.partition());
          rewound.add(rw.partition());
        } else {
          judged++;
          deliver(outcome);
        }
      }
    }
    pendingBytes = assembler.pendingBytes();
    pendingBudget = assembler.budget();
    if (registryDown) {
      sleepInterrupted(Math.min(1000, Math.max(100, timeout.toMillis())));
    }
    if (!records.isEmpty() && log.isDebugEnabled()) {
      log.debug(
          "model {}: {} records handled in {} ms, {} versions judged, {} bytes pending",
          model,
          records.count(),
          (System.nanoTime() - t0) / 1_000_000,
          judged,
          assembler.pendingBytes());
    }
    return judged;
  }

  private List<VersionAssembler.Outcome> handle(ConsumerRecord<String, byte[]> r) {
    if (!model.equals(r.key())) {
      otherRecords.incrementAndGet();
      return List.of();
    }
    Object value;
    try {
      value = deserialize(r);
    } catch (SerializationException e) {
      return assembler.onUnreadable(r.partition(), r.offset(), e.getMessage());
    }
    if (!(value instanceof IndexedRecord)) {
      return assembler.onUnreadable(
          r.partition(),
          r.offset(),
          "a " + (value == null ? "null" : value.getClass().getName()) + ", not an Avro record");
    }
    return assembler.onRecord(r.partition(), r.offset(), value);
  }

  /** The registry could not be reached (as opposed to: it does not know the schema id). */
  private static final class RegistryUnavailable extends RuntimeException {
    RegistryUnavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private Object deserialize(ConsumerRecord<String, byte[]> r) {
    try {
      return deserializer.deserialize(r.topic(), r.headers(), r.value());
    } catch (SerializationException e) {
      if (e.getCause() instanceof RegistryException re && re.status() != 404) {
        throw new RegistryUnavailable(e.getMessage(), e);
      }
      throw e;
    }
  }

  private void deliver(VersionAssembler.Outcome outcome) {
    if (outcome instanceof VersionAssembler.Accepted a) {
      VerifiedVersion v = a.version();
      // Versions are monotonic per model: an old or repeated one (a replay, a second publisher) is
      // no update.
      Optional<VersionGate.Refusal> no = gate.checkOrder(v.manifest(), floor, floorInclusive);
      if (no.isPresent()) {
        outcome =
            new VersionAssembler.Refused(
                new RefusedVersion(
                    model,
                    v.version(),
                    no.get().reason(),
                    no.get().message()
                        + " (at "
                        + v.topic()
                        + "-"
                        + v.partition()
                        + "@"
                        + v.offset()
                        + ")",
                    v.topic(),
                    v.partition(),
                    v.offset()));
      }
    }
    if (outcome instanceof VersionAssembler.Accepted a) {
      VerifiedVersion v = a.version();
      accepted.incrementAndGet();
      latest.set(v);
      floor = v.version();
      floorInclusive = false;
      assembler.sizeBudgetFrom(v.manifest());
      if (highWater != null) {
        highWater.raise(
            topic, model, v.version()); // before the listeners: a crash in one cannot lose it
      }
      log.info("accepted {}", v);
      for (VersionListener l : listeners) {
        try {
          l.onAccepted(v);
        } catch (Throwable e) {
          listenerFailures.incrementAndGet();
          log.error(
              "listener {} failed on model {} version {}: {}",
              l,
              model,
              v.version(),
              e.toString(),
              e);
        }
      }
    } else if (outcome instanceof VersionAssembler.Refused rf) {
      RefusedVersion r = rf.refused();
      refused.incrementAndGet();
      refusedByReason.get(r.reason()).incrementAndGet();
      log.warn("refused model {} version {} ({}): {}", model, r.version(), r.reason(), r.message());
      for (VersionListener l : listeners) {
        try {
          l.onRefused(r);
        } catch (Throwable e) {
          listenerFailures.incrementAndGet();
          log.error(
              "listener {} failed on refused model {} version {}: {}",
              l,
              model,
              r.version(),
              e.toString(),
              e);
        }
      }
    }
  }

  private void noteRead(ConsumerRecord<?, ?> r) {
    recordsRead.incrementAndGet();
    lowestOffset.accumulateAndGet(r.offset(), Math::min);
  }

  /**
   * Assigns the topic's partitions and seeks to the start position; false while the topic does not
   * exist.
   */
  private boolean position(Duration timeout) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, startTimeout);
    if (infos == null || infos.isEmpty()) {
      if (!waitingLogged) {
        log.info("model topic {} does not exist yet; subscriber to {} waits for it", topic, model);
        waitingLogged = true;
      }
      sleepInterrupted(Math.min(timeout.toMillis(), 500));
      return false;
    }
    List<TopicPartition> tps = new ArrayList<>();
    for (PartitionInfo p : infos) {
      tps.add(new TopicPartition(topic, p.partition()));
    }
    consumer.assign(tps);
    if (startPosition == StartPosition.EARLIEST) {
      consumer.seekToBeginning(tps);
    } else {
      long deadline = System.nanoTime() + startTimeout.toNanos();
      consumer.pause(tps);
      for (TopicPartition tp : tps) {
        consumer.resume(List.of(tp));
        locateNewest(tp, deadline);
        consumer.pause(List.of(tp));
      }
      consumer.resume(tps);
    }
    positioned = true;
    positionedLatch.countDown();
    return true;
  }

  /**
   * The backward scan described in the class comment. Only a manifest that verifies and passes the
   * order check (not below the high-water mark, not stale) may set the start; every other one is
   * passed over.
   */
  private void locateNewest(TopicPartition tp, long deadline) {
    long begin = consumer.beginningOffsets(List.of(tp)).get(tp);
    long end =
        consumer.endOffsets(List.of(tp)).get(tp); // the last stable offset under read_committed
    long hi = end;
    long window = scanWindow;
    int passedOver = 0;
    while (hi > begin) {
      long lo = Math.max(begin, hi - window);
      List<ConsumerRecord<String, byte[]>> records = readRange(tp, lo, hi, deadline);
      for (int i = records.size() - 1; i >= 0; i--) {
        ConsumerRecord<String, byte[]> r = records.get(i);
        if (!model.equals(r.key())) {
          continue;
        }
        EncoderVersion m;
        Optional<VersionGate.Refusal> no;
        try {
          Object value = deserialize(r);
          if (!EncoderRecords.isManifest(value)) {
            continue;
          }
          m = EncoderRecords.toManifest((IndexedRecord) value);
          if (!model.equals(String.valueOf(m.getModelName()))) {
            continue;
          }
          no = gate.checkManifest((IndexedRecord) value, m);
          if (no.isEmpty()) {
            no = gate.checkOrder(m, floor, floorInclusive);
          }
        } catch (RegistryUnavailable e) {
          throw e; // positioning is retried once the registry answers
        } catch (Throwable e) {
          continue; // judged, and reported, when read again in order
        }
        if (no.isPresent()) {
          passedOver++;
          log.debug(
              "model {}: passing over {}-{}@{} while locating the newest version: {}",
              model,
              topic,
              tp.partition(),
              r.offset(),
              no.get().message());
          continue;
        }
        long version = m.getVersion();
        long start = Math.max(begin, r.offset() - Math.max(m.getChunkCount(), 0));
        log.info(
            "model {}: newest verified version {} has its manifest at {}-{}@{}; reading from {} ({} records read"
                + " to find it{})",
            model,
            version,
            topic,
            tp.partition(),
            r.offset(),
            start,
            recordsRead.get(),
            passedOver == 0
                ? ""
                : ", " + passedOver + " later manifest(s) that do not qualify passed over");
        assembler.startAt(tp.partition(), version, r.offset(), start, begin);
        consumer.seek(tp, start);
        return;
      }
      hi = lo;
      window = Math.min(window * 2, MAX_SCAN_WINDOW);
    }
    log.info(
        "model {}: no verified version on {}-{} yet{}; waiting for the first from offset {}",
        model,
        topic,
        tp.partition(),
        passedOver == 0 ? "" : " (" + passedOver + " manifest(s) that do not qualify passed over)",
        end);
    consumer.seek(tp, end);
  }

  /** Records of {@code tp} with offsets in [lo, hi). */
  private List<ConsumerRecord<String, byte[]>> readRange(
      TopicPartition tp, long lo, long hi, long deadline) {
    consumer.seek(tp, lo);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    while (consumer.position(tp) < hi) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "model "
                + model
                + ": could not read "
                + tp
                + " offsets "
                + lo
                + ".."
                + hi
                + " within the start timeout of "
                + startTimeout);
      }
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100)).records(tp)) {
        noteRead(r);
        if (r.offset() < hi) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /**
   * Counters of one subscriber at one moment.
   *
   * @param accepted versions accepted
   * @param refused versions (and records) refused, all reasons
   * @param refusedByReason the same by reason, every reason present
   * @param recordsRead records the consumer handed over, positioning scan included
   * @param lowestOffsetRead lowest offset of any record read, or -1 before the first
   * @param otherModelRecords records of other models skipped (by key, without deserializing them)
   * @param unreadableRecords records of this model that could not be read or handled
   * @param listenerFailures listener calls that threw
   * @param registryPauses times a record waited for an unreachable registry
   * @param pendingBytes bytes held for versions before their manifest
   * @param pendingBudget the limit on those bytes
   * @param latestVersion the last version accepted, or -1
   */
  public record Stats(
      long accepted,
      long refused,
      Map<RefusedVersion.Reason, Long> refusedByReason,
      long recordsRead,
      long lowestOffsetRead,
      long otherModelRecords,
      long unreadableRecords,
      long listenerFailures,
      long registryPauses,
      long pendingBytes,
      long pendingBudget,
      long latestVersion) {

    public Stats {
      refusedByReason = Map.copyOf(refusedByReason);
    }

    /** Refusals for {@code reason}. */
    public long refused(RefusedVersion.Reason reason) {
      return refusedByReason.getOrDefault(reason, 0L);
    }
  }

  /** A snapshot of the counters. Any thread. */
  public Stats stats() {
    Map<RefusedVersion.Reason, Long> byReason =
        new java.util.EnumMap<>(RefusedVersion.Reason.class);
    refusedByReason.forEach((r, c) -> byReason.put(r, c.get()));
    VerifiedVersion last = latest.get();
    return new Stats(
        accepted.get(),
        refused.get(),
        byReason,
        recordsRead.get(),
        lowestOffsetRead(),
        otherRecords.get(),
        refusedByReason.get(RefusedVersion.Reason.UNREADABLE).get(),
        listenerFailures.get(),
        registryPauses.get(),
        pendingBytes,
        pendingBudget,
        last == null ? -1 : last.version());
  }

  /** The gate deciding which versions are acceptable. */
  public VersionGate gate() {
    return gate;
  }

  /**
   * Waits until the subscriber has found its start position (topic exists, newest version located).
   */
  public boolean awaitPositioned(Duration timeout) throws InterruptedException {
    return positionedLatch.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * True once positioned and every partition has been read up to its end as of this call (the last
   * stable offset under read_committed): every version committed so far has been judged. For a
   * one-shot listing; only for subscribers not {@link #start() started} (the consumer belongs to
   * the polling thread).
   */
  public boolean caughtUp() {
    synchronized (this) {
      if (thread != null) {
        throw new IllegalStateException(
            "subscriber to " + model + " runs on its own thread; ask stats() instead");
      }
    }
    if (!positioned) {
      return false;
    }
    Set<TopicPartition> tps = consumer.assignment();
    Map<TopicPartition, Long> end = consumer.endOffsets(tps);
    for (TopicPartition tp : tps) {
      if (consumer.position(tp) < end.get(tp)) {
        return false;
      }
    }
    return true;
  }

  /** The last version accepted, if any. */
  public Optional<VerifiedVersion> latest() {
    return Optional.ofNullable(latest.get());
  }

  public String model() {
    return model;
  }

  public String topic() {
    return topic;
  }

  /** Versions accepted so far. */
  public long acceptedCount() {
    return accepted.get();
  }

  /** Versions refused so far. */
  public long refusedCount() {
    return refused.get();
  }

  /** Records the consumer handed over, positioning scan included. */
  public long recordsRead() {
    return recordsRead.get();
  }

  /** Lowest offset of any record read, or -1 before the first. */
  public long lowestOffsetRead() {
    long v = lowestOffset.get();
    return v == Long.MAX_VALUE ? -1 : v;
  }

  /** Records of other models skipped (by key, without deserializing them). */
  public long otherModelRecords() {
    return otherRecords.get();
  }

  /**
   * Records of this model that could not be deserialized (each also fails the version it belonged
   * to).
   */
  public long unreadableRecords() {
    return refusedByReason.get(RefusedVersion.Reason.UNREADABLE).get();
  }

  /** Listener calls that threw. */
  public long listenerFailures() {
    return listenerFailures.get();
  }

  /** Bytes of chunks held for versions in progress (only meaningful from the polling thread). */
  long pendingBytes() {
    return assembler.pendingBytes();
  }

  /** The last error the own thread met and retried after, if any. */
  public Optional<RuntimeException> lastError() {
    return Optional.ofNullable(lastError.get());
  }

  /** Stops the thread (if started) and closes the consumer. Idempotent. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      t = thread;
    }
    if (t == null) {
      closeClients();
      return;
    }
    if (t == Thread.currentThread()) {
      return; // called from a listener: the loop ends after this poll and closes the consumer
      // itself
    }
    consumer.wakeup();
    try {
      if (!stopped.await(30, TimeUnit.SECONDS)) {
        log.warn("subscriber thread for {} did not stop within 30 s", model);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeClients() {
    try {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    } catch (RuntimeException e) {
      log.warn("closing the consumer of subscriber {}: {}", model, e.toString());
    }
    deserializer.close();
  }

  private static boolean sleepInterrupted(long millis) {
    try {
      Thread.sleep(millis);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  /** Settings of a {@link VersionSubscriber}. */
  public static final class Builder {
    private ModelSource source;
    private StartPosition start = StartPosition.NEWEST;
    private long maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
    private long maxPendingBytes;
    private Duration maxAge;
    private Clock clock = Clock.systemUTC();
    private Path highWaterFile;
    private int scanWindow = DEFAULT_SCAN_WINDOW;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;
    private final List<VersionListener> listeners = new ArrayList<>();

    private Builder(ModelSource source) {
      this.source = source;
    }

    /** The model topic (default {@link ModelTopics#DEFAULT_TOPIC}). */
    public Builder topic(String topic) {
      source = source.withTopic(Objects.requireNonNull(topic, "topic"));
      return this;
    }

    /** The keys whose versions are accepted (required, here or in the {@link ModelSource}). */
    public Builder trustedKeys(TrustedKeys keys) {
      source = source.withTrust(keys);
      return this;
    }

    /** Where to start (default {@link StartPosition#NEWEST}). */
    public Builder startPosition(StartPosition start) {
      this.start = Objects.requireNonNull(start, "start");
      return this;
    }

    /** Largest payload accepted (default {@link #DEFAULT_MAX_PAYLOAD_BYTES}). */
    public Builder maxPayloadBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxPayloadBytes must be >= 1, got " + bytes);
      }
      this.maxPayloadBytes = bytes;
      return this;
    }

    /**
     * Most bytes of chunks held, all partitions and versions together, before their manifest
     * arrives (default: one payload of {@link #maxPayloadBytes}). Once a version is accepted, the
     * budget shrinks to three versions of its size.
     */
    public Builder maxPendingBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxPendingBytes must be >= 1, got " + bytes);
      }
      this.maxPendingBytes = bytes;
      return this;
    }

    /** Refuse versions created longer ago than this ({@code STALE}); default: no limit. */
    public Builder maxAge(Duration age) {
      this.maxAge = age;
      return this;
    }

    /** What "now" is for {@link #maxAge} (tests). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Keep the highest version accepted in this file (see {@link HighWaterMarks}) and never accept
     * a lower one, across restarts. Default: none (in memory only).
     */
    public Builder highWaterMarks(Path file) {
      this.highWaterFile = file;
      return this;
    }

    /**
     * Records in the first backward window of a newest-version start (default {@value
     * #DEFAULT_SCAN_WINDOW}).
     */
    public Builder scanWindow(int records) {
      if (records < 1 || records > MAX_SCAN_WINDOW) {
        throw new IllegalArgumentException(
            "scanWindow must be in 1.." + MAX_SCAN_WINDOW + ", got " + records);
      }
      this.scanWindow = records;
      return this;
    }

    /** Time allowed for positioning (default 60 s). */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout, "startTimeout");
      return this;
    }

    public Builder listener(VersionListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Extra consumer or deserializer settings (registry auth, TLS, ...); they win over the
     * defaults.
     */
    public Builder consumerConfig(Map<String, ?> config) {
      source = source.withClientOverrides(config);
      return this;
    }

    public VersionSubscriber build() {
      source.requireTrust();
      return new VersionSubscriber(this);
    }
  }
}
