package io.mocostream.trainer.stream;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.encoder.publish.ModelTopics;
import io.mocostream.frames.DeadLetter;
import io.mocostream.frames.FrameReader;
import io.mocostream.registry.client.ClientSettings;
import io.mocostream.registry.client.RegistryClientConfig;
import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.schemas.OffsetRange;
import io.mocostream.schemas.TopicPosition;
import io.mocostream.schemas.TrainerCheckpoint;
import io.mocostream.schemas.TrainerStep;
import io.mocostream.trainer.eval.FeatureExtractor;
import io.mocostream.trainer.eval.KnnMonitor;
import io.mocostream.trainer.eval.ProbeSet;
import io.mocostream.trainer.moco.MocoEngine;
import io.mocostream.trainer.moco.StepResult;
import io.mocostream.vision.model.ComputeThreads;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer that lives on a stream: consumes frames (read_committed), forms micro-batches, runs
 * MoCo steps, and every few steps or seconds commits, in ONE Kafka transaction, the encoder version
 * (model topic), the full resumable state (state topic), the steps since the last commit (step
 * log), the rejected frames (dead-letter topic) and the consumer offsets. A crash anywhere rolls
 * back to the last commit; the restart restores that state and continues from exactly its offsets,
 * and since every random choice derives from the seed and the stream position, the redone steps are
 * the same steps.
 *
 * <p>One trainer per model: its transactional id is derived from the model name, so a second
 * (zombie) trainer of the same model is fenced by the first one's {@code initTransactions}.
 */
public final class StreamTrainer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamTrainer.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** Room for a frame record's other fields and the dead-letter headers around its payload. */
  private static final long DEAD_LETTER_OVERHEAD = 1L << 20;

  private final TrainerConfig config;
  private final String bootstrap;
  private final String registryUrl;
  private final TrainerListener listener;
  private final String groupId;
  private final ClientSettings clients;
  private volatile boolean stopping;

  // Set up by run(), on the training thread (the engine's grad mode is per thread).
  private MocoEngine engine;
  private KafkaProducer<String, Object> producer;

  /**
   * Whether {@link #producer} has a transaction open. Transactions begin lazily, at the first send
   * after a commit: an empty transaction left open makes {@code producer.close} try to abort it and
   * wait out its whole timeout.
   */
  private boolean inTransaction;

  private KafkaConsumer<byte[], byte[]> consumer;
  private BatchPreparer preparer;
  private volatile Prefetcher prefetcher;
  private EncoderPublisher publisher;
  private ModelSigner signer;

  /**
   * Versions continue above this: the newest the key signed when no checkpoint could be restored
   * (else 0).
   */
  private long versionFloor;

  /** This run's id, in every manifest and checkpoint; kept across restores. */
  private String runId;

  private ProbeSet probe;

  /** The replay buffer, or null when off ({@link TrainerConfig#REPLAY_BUFFER_SIZE_CONFIG}). */
  private ReplayStage replay;

  /** What the last commit made durable: where a failed transaction rolls back to. */
  private record Committed(
      long step, long version, byte[] state, Map<TopicPartition, Long> positions) {}

  private Committed committed;

  /** Consecutive roll-backs to the same commit; see {@link #recover}. */
  static final int MAX_ROLLBACKS_WITHOUT_PROGRESS = 10;

  private int rollbacksWithoutProgress;
  private long lastRollbackTo = -1;
  private long step;
  private Map<TopicPartition, Long> positions;

  /** A copy of {@link #positions} after each step, for {@link #consumerLag()} on other threads. */
  private volatile Map<TopicPartition, Long> trainedPositions = Map.of();

  /**
   * The end offsets last measured before the prefetcher closed: the lag stays known after a run
   * ends.
   */
  private volatile Map<TopicPartition, Long> lastEndOffsets = Map.of();

  // Since the last commit:
  private long intervalImages;
  private double intervalLossSum;
  private int intervalLossCount;
  private long intervalStartNanos;
  private long rejectedTotal;
  private long skippedTotal;

  /**
   * Steps skipped in a row: a model whose every step is non-finite has diverged and must not be
   * published.
   */
  private long consecutiveSkips;

  static final int DIVERGED_AFTER_SKIPS = 3;

  public StreamTrainer(
      TrainerConfig config, String bootstrap, String registryUrl, TrainerListener listener) {
    this(config, bootstrap, registryUrl, listener, ClientSettings.NONE);
  }

  /**
   * @param clientOverrides Kafka client settings laid over the trainer's own for its producer and
   *     consumers (the fault tests shorten timeouts with it, to drive the recovery path in seconds)
   */
  StreamTrainer(
      TrainerConfig config,
      String bootstrap,
      String registryUrl,
      TrainerListener listener,
      Map<String, Object> clientOverrides) {
    this(config, bootstrap, registryUrl, listener, ClientSettings.of(strings(clientOverrides)));
  }

  /**
   * @param clients Kafka client settings (SASL, TLS, ...) laid over the trainer's own for all its
   *     clients, and the registry's credentials
   */
  public StreamTrainer(
      TrainerConfig config,
      String bootstrap,
      String registryUrl,
      TrainerListener listener,
      ClientSettings clients) {
    this.config = config;
    this.bootstrap = bootstrap;
    this.registryUrl = registryUrl;
    this.listener = listener == null ? new TrainerListener() {} : listener;
    this.groupId = "mocostream-trainer-" + config.modelName();
    this.clients = clients;
  }

  private static Map<String, String> strings(Map<String, Object> m) {
    Map<String, String> out = new HashMap<>();
    m.forEach((k, v) -> out.put(k, String.valueOf(v)));
    return out;
  }

  /**
   * Records not yet trained in each frames partition: the end offset the consumer's fetches last
   * reported (refreshed about once a second while it polls) minus the position the last step
   * reached. The prefetched batches count as not trained. Empty before the first measurement. Any
   * thread.
   */
  public Map<TopicPartition, Long> consumerLag() {
    Prefetcher p = prefetcher;
    Map<TopicPartition, Long> trained = trainedPositions;
    Map<TopicPartition, Long> ends = p == null ? lastEndOffsets : p.endOffsets();
    Map<TopicPartition, Long> lag = new HashMap<>();
    ends.forEach(
        (tp, end) -> {
          Long at = trained.get(tp);
          if (at != null) {
            lag.put(tp, Math.max(0, end - at));
          }
        });
    return lag;
  }

  /** Asks {@link #run} to finish its current step, commit what it has and return. Any thread. */
  public void stop() {
    stopping = true;
  }

  /**
   * Trains until {@code trainer.max.steps} or {@link #stop()}; returns the last committed version
   * (0 if none).
   */
  public long run() throws InterruptedException {
    setUp();
    try {
      intervalStartNanos = System.nanoTime();
      long lastPublishNanos = System.nanoTime();
      while (true) {
        try {
          if (stopping || (config.maxSteps() != 0 && step >= config.maxSteps())) {
            // The last commit goes through the same recovery as the others: if it fails, the steps
            // since the
            // previous one are redone (or, when stopping, left to the next run) rather than the run
            // dying.
            if (step > committed.step) {
              commit();
            }
            break;
          }
          PreparedBatch batch = prefetcher.next(Duration.ofMillis(200));
          if (batch != null) {
            trainOn(batch);
          }
          boolean byTime =
              !config.publishEvery().isZero()
                  && System.nanoTime() - lastPublishNanos >= config.publishEvery().toNanos();
          boolean bySteps =
              config.publishEverySteps() > 0 && step - committed.step >= config.publishEverySteps();
          if ((bySteps || byTime) && step > committed.step) {
            commit();
            lastPublishNanos = System.nanoTime();
          }
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
          String denied = clients.denied(e, "WRITE", "transactional id " + transactionalId());
          throw new IllegalStateException(
              "trainer of model "
                  + config.modelName()
                  + " cannot go on: "
                  + (denied != null ? denied : e.getMessage())
                  + (e instanceof ProducerFencedException
                      ? " (another trainer of this model started)"
                      : ""),
              e);
        } catch (KafkaException e) {
          recover(e);
        }
      }
      return committed.version;
    } finally {
      close();
    }
  }

  private void setUp() {
    ensureTopics();
    producer = newProducer();
    // Fences an older trainer of this model and completes its last transaction (aborts it if still
    // open, finishes
    // its commit if the commit was already decided), so the checkpoint read next is the last one
    // there will be.
    producer.initTransactions();

    signer = ModelSigning.loadOrCreate(Path.of(config.keysDir()));
    publisher = new EncoderPublisher(config.versionsTopic(), signer);
    log.info(
        "model {}: signing key {} (trust {})",
        config.modelName(),
        signer.keyId(),
        Path.of(config.keysDir()).resolve(ModelSigning.PUBLIC_KEY_FILE));

    Optional<Checkpoints.Restored> restored = readLatestCheckpoint();
    engine = newEngine();
    // compute.threads (default: the CPU quota) on the thread that runs the steps; each step records
    // it.
    ComputeThreads.set(config.computeThreads());
    preparer = new BatchPreparer(clients.serde(Map.of("schema.registry.url", registryUrl)), config);
    replay = ReplayStage.of(config);
    if (restored.isPresent()) {
      TrainerCheckpoint m = restored.get().manifest();
      if (!m.getConfigFingerprint().equals(config.fingerprint())
          && !config.sameComputation(m.getConfigJson())) {
        throw new IllegalStateException(
            "model "
                + config.modelName()
                + " was trained with another configuration ("
                + m.getConfigJson()
                + "); this run's is "
                + config.computeJson()
                + ". Keep the settings, or train under a new model name.");
      }
      loadState(restored.get().state());
      committed = committedFrom(restored.get());
      runId = m.getRunId() != null ? m.getRunId() : java.util.UUID.randomUUID().toString();
      log.info(
          "model {}: resumed at step {} (version {}) from {}",
          config.modelName(),
          m.getStep(),
          m.getEncoderVersion(),
          committed.positions);
    } else {
      Map<TopicPartition, Long> pos = new LinkedHashMap<>();
      framePartitions().forEach(tp -> pos.put(tp, 0L));
      committed = new Committed(0, 0, null, Map.copyOf(pos));
      runId = java.util.UUID.randomUUID().toString();
      versionFloor =
          Checkpoints.newestSignedVersion(
              bootstrap,
              registryUrl,
              config.versionsTopic(),
              config.modelName(),
              signer.trustedKeys(),
              TIMEOUT,
              clients);
      log.info(
          "model {}: new run {} from the start of {}{}",
          config.modelName(),
          runId,
          config.framesTopic(),
          versionFloor == 0
              ? ""
              : "; versions continue above " + versionFloor + ", the newest this key signed");
    }
    step = committed.step;
    positions = new LinkedHashMap<>(committed.positions);
    probe = ProbeLoader.load(config);
    Map<String, Object> consumerConfig =
        new HashMap<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG,
                groupId,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                Math.max(500, 2 * config.batchSize()),
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                16 << 20,
                // Positions are always explicit (the checkpoint's); one below the log start is a
                // retention gap the
                // prefetcher records and reads on from the start, never a silent jump to the end
                // ("latest").
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "none",
                // New partitions of the frames topic are seen within this (the prefetcher checks as
                // often).
                ConsumerConfig.METADATA_MAX_AGE_CONFIG,
                (int) Math.min(Integer.MAX_VALUE, config.partitionsCheck().toMillis())));
    consumer =
        new KafkaConsumer<>(
            clients.consumer(consumerConfig),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer());
    prefetcher = new Prefetcher(consumer, preparer, config, positions, 2);
    trainedPositions = Map.copyOf(positions);
    listener.onReady(step, committed.version);
  }

  /** The trainer's transactional producer (transactions not yet initialised). */
  private KafkaProducer<String, Object> newProducer() {
    Map<String, Object> producerConfig =
        new HashMap<>(EncoderPublisher.producerConfig(bootstrap, registryUrl, transactionalId()));
    // A commit carries every step since the last one: give the transaction the broker's whole
    // default maximum.
    producerConfig.put(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) Duration.ofMinutes(15).toMillis());
    producerConfig.put(
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Duration.ofMinutes(5).toMillis());
    // A dead letter is the original record, up to decode.max.bytes of payload: were it over the
    // producer's request
    // limit, its step's transaction would fail on every retry and one frame would stop the trainer.
    producerConfig.put(
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
        (int)
            Math.max(
                EncoderPublisher.PRODUCER_MAX_REQUEST_SIZE,
                config.limits().maxBytes() + DEAD_LETTER_OVERHEAD));
    producerConfig = clients.producer(producerConfig);
    PassThroughSerializer values = new PassThroughSerializer();
    values.configure(producerConfig, false);
    @SuppressWarnings({"unchecked", "rawtypes"})
    Serializer<String> keys = (Serializer) KEYS; // String keys, and byte[] ones from sendRaw
    return new KafkaProducer<>(producerConfig, keys, values);
  }

  /**
   * The producer's transactional id (and the trainer's ACL resource): one per model, so a zombie is
   * fenced.
   */
  private String transactionalId() {
    return "mocostream-trainer-" + config.modelName();
  }

  /** Opens the transaction that the next sends belong to, unless one is open. */
  private void ensureTransaction() {
    if (!inTransaction) {
      producer.beginTransaction();
      inTransaction = true;
    }
  }

  private MocoEngine newEngine() {
    Device device = Device.cpu();
    if (config.gpu()) {
      if (Engine.getInstance().getGpuCount() == 0) {
        throw new IllegalStateException(
            "trainer.device=gpu but the PyTorch engine sees no GPU (CPU natives, or no "
                + "CUDA driver); run with --device cpu or point PYTORCH_LIBRARY_PATH at a CUDA libtorch 2.7.1");
      }
      device = Device.gpu();
    }
    return new MocoEngine(config.moco(), device);
  }

  private void loadState(byte[] state) {
    if (replay != null) {
      state = replay.unwrap(state, at -> ReplayStage.readBack(bootstrap, clients, preparer, at));
    }
    try {
      engine.loadState(new ByteArrayInputStream(state));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot load the trainer state of model " + config.modelName(), e);
    }
  }

  private byte[] saveState() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      engine.saveState(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the trainer state", e);
    }
    return replay == null ? out.toByteArray() : replay.wrap(out.toByteArray());
  }

  private void trainOn(PreparedBatch batch) {
    ensureTransaction();
    for (Rejection r : batch.rejected()) {
      ConsumerRecord<byte[], byte[]> original = r.record();
      DeadLetter letter =
          new DeadLetter(
              r.reason(),
              r.message(),
              DeadLetter.origin(original.topic(), original.partition(), original.offset()),
              DeadLetter.TRAINER);
      sendRaw(
          letter.toRecord(
              config.dlqTopic(),
              original.key(),
              original.value(),
              original.timestamp(),
              original.headers()));
      log.warn("frame rejected to {}: {} ({})", config.dlqTopic(), letter.message(), r.reason());
      listener.onDeadLetter(r.reason());
    }
    rejectedTotal += batch.rejected().size();
    double loss = Double.NaN;
    boolean skipped = true;
    boolean nonFinite = false;
    // With the replay buffer the step trains on frames drawn from it; the step log keeps both
    // compositions.
    ReplayStage.Drawn drawn =
        replay == null ? null : replay.admitAndDraw(batch, config.framesTopic(), engine, step + 1);
    int n = drawn == null ? batch.n() : drawn.n();
    if (n >= 2) {
      StepResult result =
          drawn == null
              ? engine.step(batch.queryViews(), batch.keyViews(), batch.n(), batch.entries())
              : engine.step(drawn.queryViews(), drawn.keyViews(), drawn.n(), drawn.entries());
      loss = result.loss();
      skipped = !result.finite();
      nonFinite = skipped;
      if (skipped) {
        log.warn(
            "step {}: loss {} or its gradients not finite; step skipped (no update, no enqueue)",
            step + 1,
            result.loss());
      }
    } else {
      // Not divergence: the data were bad, the model is not. The step commits the dead letters and
      // moves on.
      log.info(
          "step {}: dead-letter-only step ({} usable frames among {} records)",
          step + 1,
          n,
          batch.n() + batch.rejected().size());
    }
    step++;
    // "Diverged" means non-finite losses only; a dead-letter-only step neither counts nor breaks a
    // run of them.
    if (nonFinite) {
      consecutiveSkips++;
    } else if (n >= 2) {
      consecutiveSkips = 0;
    }
    if (skipped) {
      skippedTotal++;
      listener.onStepSkipped(nonFinite);
    } else {
      intervalImages += n;
      intervalLossSum += loss;
      intervalLossCount++;
    }
    TrainerStep entry =
        TrainerStep.newBuilder()
            .setModelName(config.modelName())
            .setStep(step)
            .setSegments(batch.segments())
            .setBatchSize(n)
            .setDrawn(drawn == null ? null : drawn.segments())
            .setRejected(batch.rejected().size())
            .setSkipped(skipped)
            .setLoss(skipped ? null : loss)
            .setCreatedAt(Instant.now())
            .setRetentionGaps(batch.gaps())
            .setComputeThreads(ComputeThreads.current())
            .build();
    producer.send(new ProducerRecord<>(config.stepsTopic(), config.modelName(), entry));
    positions.putAll(batch.nextOffsets());
    trainedPositions = Map.copyOf(positions);
    listener.onStep(
        step,
        loss,
        skipped ? 0 : n,
        rejectedTotal,
        skippedTotal,
        imagesPerSecond(),
        prefetcher.lag());
    var queue = engine.queue();
    // A ring: the oldest key is in slot 0 until it fills, then where the next key goes.
    var oldest =
        queue.size() == 0
            ? null
            : queue.entry(queue.size() < queue.capacity() ? 0 : queue.pointer());
    listener.onQueue(
        queue.size(),
        queue.capacity(),
        oldest == null ? -1 : oldest.step(),
        oldest == null ? -1 : oldest.timestampMs());
  }

  /**
   * Sends a record whose key and value are raw bytes (a dead letter: the original key byte for
   * byte, never decoded to a String and re-encoded) through the one transactional producer, whose
   * declared key type is String because the publisher and checkpoint writers it is shared with take
   * that type. The key serializer passes byte[] through ({@link #KEYS}), so this unchecked cast is
   * safe.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private void sendRaw(ProducerRecord<byte[], byte[]> record) {
    ((KafkaProducer) producer).send(record);
  }

  /** String keys as UTF-8 (Kafka's StringSerializer), byte[] keys (dead letters) untouched. */
  private static final Serializer<Object> KEYS =
      new Serializer<>() {
        private final StringSerializer strings = new StringSerializer();

        @Override
        public byte[] serialize(String topic, Object key) {
          return key instanceof byte[] raw ? raw : strings.serialize(topic, (String) key);
        }
      };

  private double imagesPerSecond() {
    double seconds = (System.nanoTime() - intervalStartNanos) / 1e9;
    return seconds > 0 ? intervalImages / seconds : 0;
  }

  /** Publishes a version, writes the checkpoint, commits the offsets: one transaction. */
  private void commit() {
    long commitStart = System.nanoTime();
    ensureTransaction();
    long version = Math.max(committed.version, versionFloor) + 1;
    if (consecutiveSkips >= DIVERGED_AFTER_SKIPS) {
      throw new IllegalStateException(
          "model "
              + config.modelName()
              + ": the last "
              + consecutiveSkips
              + " steps up to "
              + step
              + " were all non-finite (diverged: lower moco.lr, or set moco.grad.clip.norm); version "
              + committed.version
              + " at step "
              + committed.step
              + " is the last good one, and a restart resumes from it");
    }
    if (!engine.parametersFinite()) {
      // Never publish (or checkpoint) broken weights: the last commit stays the newest good state.
      throw new IllegalStateException(
          "model "
              + config.modelName()
              + ": the encoder's weights are not finite at step "
              + step
              + " (diverged: lower moco.lr or raise the warm-up); version "
              + committed.version
              + " at step "
              + committed.step
              + " is the last good one, and a restart resumes from it");
    }
    long publishStart = System.nanoTime();
    byte[] weights = engine.saveEncoderWeights();
    Double knn = null;
    Double knnHead = null;
    if (probe
        != null) { // both features: the backbone's (what users embed with) and the head's (the
      // demo's monitor)
      knn = probe.knnTop1(engineExtractor(), new KnnMonitor());
      knnHead =
          probe.knnTop1(
              FeatureExtractor.of(config.moco().architecture().embeddingDim(), engine::embed),
              new KnnMonitor());
    }
    List<OffsetRange> ranges = new ArrayList<>();
    List<TopicPartition> partitions = new ArrayList<>(positions.keySet());
    partitions.sort(
        java.util.Comparator.comparing(TopicPartition::topic)
            .thenComparingInt(TopicPartition::partition));
    for (TopicPartition tp : partitions) {
      long from = committed.positions.getOrDefault(tp, 0L);
      long to = positions.get(tp);
      if (to > from) {
        ranges.add(new OffsetRange(tp.topic(), tp.partition(), from, to));
      }
    }
    EncoderVersion.Builder draft =
        EncoderVersion.newBuilder()
            .setModelName(config.modelName())
            .setVersion(version)
            .setParentVersion(committed.version == 0 ? null : committed.version)
            .setRunId(runId)
            .setArchitecture(config.moco().architecture().toAvro())
            .setStep(step)
            .setCreatedAt(Instant.now())
            .setLineage(new Lineage(ranges, config.stepsTopic(), committed.step + 1, step))
            .setMetrics(
                new Metrics(
                    intervalLossCount == 0 ? null : intervalLossSum / intervalLossCount,
                    knn,
                    imagesPerSecond(),
                    knnHead))
            .setConfigFingerprint(config.fingerprint());
    EncoderVersion manifest = publisher.publish(producer, draft, weights);
    long publishNanos = System.nanoTime() - publishStart;

    byte[] state = saveState();
    List<TopicPosition> pos = new ArrayList<>();
    positions.forEach((tp, off) -> pos.add(new TopicPosition(tp.topic(), tp.partition(), off)));
    Checkpoints.write(
        producer,
        config.stateTopic(),
        TrainerCheckpoint.newBuilder()
            .setModelName(config.modelName())
            .setStep(step)
            .setEncoderVersion(version)
            .setPositions(pos)
            .setConfigJson(config.computeJson())
            .setConfigFingerprint(config.fingerprint())
            .setCreatedAt(Instant.now())
            .setRunId(runId),
        state,
        signer);

    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    positions.forEach((tp, off) -> offsets.put(tp, new OffsetAndMetadata(off, "step " + step)));
    // The consumer is assigned, not subscribed (one trainer owns every partition), so its group
    // metadata is only the
    // group id; and it belongs to the prefetch thread, where consumer.groupMetadata() would have to
    // be called.
    // Zombie trainers are fenced by the transactional id instead of the group generation.
    producer.sendOffsetsToTransaction(offsets, groupMetadata());
    producer.commitTransaction();
    inTransaction = false;
    committed = new Committed(step, version, state, Map.copyOf(positions));
    log.info(
        "model {}: version {} at step {} committed (loss {}, knn {}, knn on the head {}, {} img/s)",
        config.modelName(),
        version,
        step,
        manifest.getMetrics().getLoss(),
        knn,
        knnHead,
        String.format("%.1f", imagesPerSecond()));
    listener.onCommitTimings(publishNanos, System.nanoTime() - commitStart);
    listener.onPublished(manifest);
    intervalImages = 0;
    intervalLossSum = 0;
    intervalLossCount = 0;
    intervalStartNanos = System.nanoTime();
  }

  @SuppressWarnings(
      "removal") // the constructor Kafka deprecates is the one for assigned (group-less) consumers
  private ConsumerGroupMetadata groupMetadata() {
    return new ConsumerGroupMetadata(groupId);
  }

  private FeatureExtractor engineExtractor() {
    return FeatureExtractor.of(config.moco().architecture().featureDim(), engine::features);
  }

  /**
   * A transaction failed (broker gone, request timed out): abort it, go back to the last committed
   * state and offsets, and carry on once the broker answers. The steps since the commit are redone
   * identically.
   *
   * <p>"Last committed" is the broker's word, not this process's belief: a commit that failed here
   * (say, timed out) may have been decided there, and a new producer's {@code initTransactions}
   * then completes it. So once the broker answers, the newest checkpoint is read back, as a restart
   * would, and wins if it is newer than ours.
   */
  private void recover(KafkaException cause) throws InterruptedException {
    // A broker outage heals; an error that comes back at the same commit every time (a record over
    // the broker's
    // size limit, a missing ACL) would make the trainer redo the same steps for ever: give up,
    // naming it.
    // A registry outage (the step log's or a version's schema not yet cached) is not the commit's
    // fault either: it
    // is waited out below and never counts towards giving up.
    boolean registryDown = FrameReader.registryUnavailable(cause);
    if (!registryDown) {
      rollbacksWithoutProgress =
          committed.step == lastRollbackTo ? rollbacksWithoutProgress + 1 : 1;
      lastRollbackTo = committed.step;
    }
    if (rollbacksWithoutProgress > MAX_ROLLBACKS_WITHOUT_PROGRESS) {
      throw new IllegalStateException(
          "model "
              + config.modelName()
              + ": rolled back to step "
              + committed.step
              + " "
              + MAX_ROLLBACKS_WITHOUT_PROGRESS
              + " times in a row without committing; last failure: "
              + cause,
          cause);
    }
    log.warn(
        "model {}: transaction failed at step {} ({}); rolling back to step {}",
        config.modelName(),
        step,
        cause.toString(),
        committed.step);
    listener.onRecovering(cause.toString());
    prefetcher.close();
    if (registryDown) {
      awaitRegistry();
    }
    long backoffMs = 500;
    while (!stopping) {
      try {
        if (producer != null && inTransaction) {
          try {
            producer.abortTransaction();
          } catch (RuntimeException abortFailed) {
            // Fatal, or "the timed-out commit must be retried" (an IllegalStateException): either
            // way this producer
            // is done; the next one's initTransactions settles the transaction on the broker,
            // whichever way it went.
            log.info(
                "model {}: abort failed ({}); starting a new producer",
                config.modelName(),
                abortFailed.toString());
            producer.close(
                Duration.ZERO); // no grace: a graceful close would try the same abort again
            producer = null;
          }
          inTransaction = false;
        }
        if (producer == null) {
          KafkaProducer<String, Object> fresh = newProducer();
          try {
            fresh.initTransactions();
          } catch (RuntimeException e) {
            fresh.close(Duration.ZERO);
            throw e;
          }
          producer = fresh;
        }
        Optional<Checkpoints.Restored> latest = readLatestCheckpoint();
        if (latest.isPresent() && latest.get().manifest().getStep() > committed.step) {
          log.warn(
              "model {}: the commit of step {} went through after all; continuing from it",
              config.modelName(),
              latest.get().manifest().getStep());
          committed = committedFrom(latest.get());
        }
        if (committed.state == null) {
          engine.close();
          engine = newEngine();
          if (replay != null) {
            replay.clear();
          }
        } else {
          loadState(committed.state);
        }
        step = committed.step;
        consecutiveSkips = 0;
        positions = new LinkedHashMap<>(committed.positions);
        intervalImages = 0;
        intervalLossSum = 0;
        intervalLossCount = 0;
        intervalStartNanos = System.nanoTime();
        prefetcher = new Prefetcher(consumer, preparer, config, positions, 2);
        trainedPositions = Map.copyOf(positions);
        listener.onRecovered(step, cause.toString());
        return;
      } catch (KafkaException e) {
        log.warn(
            "model {}: broker not back yet ({}); retrying in {} ms",
            config.modelName(),
            e.toString(),
            backoffMs);
        Thread.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
    step =
        committed.step; // stopped before the broker came back: nothing left that could be committed
  }

  /** Waits, with backoff, until the schema registry answers (or the trainer is stopped). */
  private void awaitRegistry() throws InterruptedException {
    long since = System.nanoTime();
    long backoffMs = 200;
    try (SchemaRegistryClient client =
        new SchemaRegistryClient(RegistryClientConfig.of(registryUrl))) {
      while (!stopping) {
        try {
          client.subjects();
          log.warn(
              "model {}: schema registry back after {} ms",
              config.modelName(),
              (System.nanoTime() - since) / 1_000_000);
          return;
        } catch (RuntimeException e) {
          if (!FrameReader.registryUnavailable(e)) {
            return; // it answers (even if with an error of its own): let the commit be retried
          }
          log.warn(
              "model {}: schema registry unavailable ({}); commit paused, asking again in {} ms",
              config.modelName(),
              e.getMessage(),
              backoffMs);
          Thread.sleep(backoffMs);
          backoffMs = Math.min(backoffMs * 2, Prefetcher.MAX_REGISTRY_BACKOFF_MS);
        }
      }
    }
  }

  /**
   * The committed point a checkpoint describes; frame partitions added since it start at offset 0.
   */
  private Committed committedFrom(Checkpoints.Restored restored) {
    TrainerCheckpoint m = restored.manifest();
    Map<TopicPartition, Long> pos = new LinkedHashMap<>();
    for (TopicPosition p : m.getPositions()) {
      pos.put(new TopicPartition(p.getTopic(), p.getPartition()), p.getOffset());
    }
    framePartitions().forEach(tp -> pos.putIfAbsent(tp, 0L));
    return new Committed(m.getStep(), m.getEncoderVersion(), restored.state(), Map.copyOf(pos));
  }

  private Optional<Checkpoints.Restored> readLatestCheckpoint() {
    try (KafkaConsumer<String, Object> c =
        Checkpoints.avroReader(bootstrap, registryUrl, clients)) {
      return Checkpoints.readLatest(
          c, config.stateTopic(), config.modelName(), signer.trustedKeys(), TIMEOUT);
    }
  }

  private List<TopicPartition> framePartitions() {
    try (Admin admin = admin()) {
      var description =
          admin
              .describeTopics(List.of(config.framesTopic()))
              .allTopicNames()
              .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)
              .get(config.framesTopic());
      return description.partitions().stream()
          .map(p -> new TopicPartition(config.framesTopic(), p.partition()))
          .toList();
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      String denied = clients.denied(e, "DESCRIBE", "topic " + config.framesTopic());
      throw new IllegalStateException(
          denied != null
              ? denied
              : "cannot describe the frames topic "
                  + config.framesTopic()
                  + " on "
                  + bootstrap
                  + ": "
                  + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private Admin admin() {
    return Admin.create(
        clients.admin(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                (int) TIMEOUT.toMillis())));
  }

  /**
   * The topics a trainer with {@code config} uses, with their settings, except the model topic
   * ({@link ModelTopics}): what an operator creates in advance for a trainer whose principal may
   * not create topics.
   */
  public static List<NewTopic> topics(TrainerConfig config) {
    return List.of(
        new NewTopic(config.framesTopic(), Optional.empty(), Optional.empty()),
        // A dead letter is a whole original frame: the topic holds the largest one the limits
        // allow.
        new NewTopic(config.dlqTopic(), Optional.empty(), Optional.empty())
            .configs(
                Map.of(
                    "max.message.bytes",
                    String.valueOf(config.limits().maxBytes() + DEAD_LETTER_OVERHEAD))),
        new NewTopic(config.stepsTopic(), Optional.of(1), Optional.empty())
            .configs(Map.of("retention.ms", "-1", "cleanup.policy", "delete")),
        new NewTopic(config.stateTopic(), Optional.of(1), Optional.empty())
            .configs(Checkpoints.topicConfigs()));
  }

  /**
   * Creates the trainer's topics when missing (the frames topic too, so a trainer can start before
   * producers). Topics that exist are only described: on a secured cluster the trainer's principal
   * needs no CREATE right.
   */
  private void ensureTopics() {
    try (Admin admin = admin()) {
      List<NewTopic> wanted = topics(config);
      List<NewTopic> missing = new ArrayList<>();
      for (NewTopic t : wanted) {
        try {
          admin
              .describeTopics(List.of(t.name()))
              .allTopicNames()
              .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof UnknownTopicOrPartitionException)) {
            String denied = clients.denied(ex.getCause(), "DESCRIBE", "topic " + t.name());
            throw new IllegalStateException(
                denied != null
                    ? denied
                    : "cannot describe topic "
                        + t.name()
                        + " on "
                        + bootstrap
                        + ": "
                        + ex.getCause().getMessage(),
                ex.getCause());
          }
          missing.add(t);
        }
      }
      for (var e : admin.createTopics(missing).values().entrySet()) {
        try {
          e.getValue().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof TopicExistsException)) {
            String denied = clients.denied(ex.getCause(), "CREATE", "topic " + e.getKey());
            throw new IllegalStateException(
                denied != null
                    ? "topic " + e.getKey() + " does not exist and " + denied
                    : "cannot create topic "
                        + e.getKey()
                        + " on "
                        + bootstrap
                        + ": "
                        + ex.getCause().getMessage(),
                ex.getCause());
          }
        }
      }
      ModelTopics.ensure(admin, config.versionsTopic());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "broker at " + bootstrap + " did not answer within " + TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    if (prefetcher != null) {
      prefetcher.close();
      lastEndOffsets = prefetcher.endOffsets();
      prefetcher = null;
    }
    if (consumer != null) {
      consumer.close(Duration.ofSeconds(5));
      consumer = null;
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(10));
      producer = null;
    }
    if (preparer != null) {
      preparer.close();
      preparer = null;
    }
    if (replay != null) {
      replay.close();
      replay = null;
    }
    if (engine != null) {
      engine.close();
      engine = null;
    }
  }
}
