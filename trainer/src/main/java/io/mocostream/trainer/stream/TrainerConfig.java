package io.mocostream.trainer.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.frames.FrameLimits;
import io.mocostream.vision.model.Architecture;
import io.mocostream.trainer.moco.MocoConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The streaming trainer's configuration: where it reads and writes, how it forms micro-batches, when it
 * publishes, and (through {@code moco.*} keys, see {@link MocoConfig}) what it computes.
 *
 * <p>Like Kafka's client configs, it is a map of strings with documented names (the {@code *_CONFIG}
 * constants). The part that decides the computation ({@link #computeProperties()}: {@code moco.*},
 * {@code augment.*}, {@code decode.*} and the thread count) travels with every checkpoint, so that replay rebuilds
 * the same run; its SHA-256 is the manifest's config fingerprint.
 */
public final class TrainerConfig {

  /** Name of the model; keys the model topic, the state topic and the step log. Required. */
  public static final String MODEL_NAME_CONFIG = "trainer.model";
  /** Topic the frames are read from (read_committed). */
  public static final String FRAMES_TOPIC_CONFIG = "trainer.topic.frames";
  /** Where frames that fail to decode or break a limit go, with the reason in headers. */
  public static final String DLQ_TOPIC_CONFIG = "trainer.topic.dlq";
  /** Step log: one TrainerStep record per step, in the checkpoint's transaction. */
  public static final String STEPS_TOPIC_CONFIG = "trainer.topic.steps";
  /** Full resumable state, chunked. */
  public static final String STATE_TOPIC_CONFIG = "trainer.topic.state";
  /** The model topic: encoder versions, chunked and signed. */
  public static final String VERSIONS_TOPIC_CONFIG = "trainer.topic.versions";
  /** Records per micro-batch: a batch closes when it holds this many records ... */
  public static final String BATCH_SIZE_CONFIG = "trainer.batch.size";
  /** ... or when this many milliseconds passed since its first record, whichever comes first. */
  public static final String MAX_WAIT_MS_CONFIG = "trainer.batch.max.wait.ms";
  /** Smallest batch worth a step: a batch with fewer usable images after rejections waits for more. */
  public static final String MIN_BATCH_CONFIG = "trainer.batch.min";
  /** Publish (and checkpoint) every this many steps; 0 = only by time. */
  public static final String PUBLISH_EVERY_STEPS_CONFIG = "trainer.publish.every.steps";
  /** Publish (and checkpoint) every this many seconds; 0 = only by steps. */
  public static final String PUBLISH_EVERY_SECONDS_CONFIG = "trainer.publish.every.seconds";
  /** Stop after this many steps in total (0 = run until stopped). */
  public static final String MAX_STEPS_CONFIG = "trainer.max.steps";
  /** Directory of the trainer's Ed25519 key pair (created on first run; public key exported there). */
  public static final String KEYS_DIR_CONFIG = "trainer.keys.dir";
  /** Labelled probe set for the kNN monitor: {@code IMAGES,LABELS} IDX files, {@code fashion-mnist}, or empty. */
  public static final String PROBE_CONFIG = "trainer.probe";
  /** Probe images used as the kNN memory bank. */
  public static final String PROBE_BANK_CONFIG = "trainer.probe.bank";
  /** Probe images used as kNN queries (held out from the bank). */
  public static final String PROBE_QUERIES_CONFIG = "trainer.probe.queries";
  /** Threads that decode and augment the next batch while the current one trains. */
  public static final String PREPARE_THREADS_CONFIG = "trainer.prepare.threads";
  /** {@code cpu} or {@code gpu}. */
  public static final String DEVICE_CONFIG = "trainer.device";
  /** Augmentation: {@code v2} (aug+) or {@code v1}. */
  public static final String AUGMENT_CONFIG = "augment.preset";
  /**
   * RandomResizedCrop's smallest area fraction (default: the preset's, 0.2 for v2); at 28 px a fifth of the image is
   * a few strokes, so small images may want more.
   */
  public static final String CROP_MIN_SCALE_CONFIG = "augment.crop.min.scale";
  /** Largest frame payload accepted, bytes. */
  public static final String MAX_BYTES_CONFIG = "decode.max.bytes";
  /** Largest frame accepted, pixels (width × height, from the header, before decoding). */
  public static final String MAX_PIXELS_CONFIG = "decode.max.pixels";
  /**
   * Most pixels one frame is decoded to (larger frames are subsampled by a whole step while decoding), so a batch
   * holds at most {@code trainer.batch.size} × this many pixels however large the frames; 0 = 16 × the
   * architecture's input side², at least 65536 (see {@link #decodePixels()}).
   */
  public static final String DECODE_BUDGET_CONFIG = "decode.budget.pixels";
  /** How often the frames topic's partition count is checked, so partitions added at run time are read. */
  public static final String PARTITIONS_CHECK_MS_CONFIG = "trainer.partitions.check.ms";
  /**
   * Frames kept in a redundancy-reducing replay buffer (after MinRed; steps train on batches drawn from it, for
   * correlated feeds); 0 (the default) trains on each consumed batch as it comes. See {@link ReplayStage}.
   */
  public static final String REPLAY_BUFFER_SIZE_CONFIG = ReplayStage.SIZE_CONFIG;
  /** PyTorch intra-op threads; part of what replay must match (bits differ between counts). */
  public static final String THREADS_CONFIG = "compute.threads";

  static final Map<String, String> DEFAULTS = Map.ofEntries(
      Map.entry(FRAMES_TOPIC_CONFIG, "frames.raw"),
      Map.entry(DLQ_TOPIC_CONFIG, "frames.dlq"),
      Map.entry(STEPS_TOPIC_CONFIG, "trainer.steps"),
      Map.entry(STATE_TOPIC_CONFIG, "trainer.state"),
      Map.entry(VERSIONS_TOPIC_CONFIG, "encoder.versions"),
      Map.entry(BATCH_SIZE_CONFIG, "64"),
      Map.entry(MAX_WAIT_MS_CONFIG, "2000"),
      Map.entry(MIN_BATCH_CONFIG, "2"),
      Map.entry(PUBLISH_EVERY_STEPS_CONFIG, "100"),
      Map.entry(PUBLISH_EVERY_SECONDS_CONFIG, "0"),
      Map.entry(MAX_STEPS_CONFIG, "0"),
      Map.entry(KEYS_DIR_CONFIG, "keys"),
      Map.entry(PROBE_CONFIG, ""),
      Map.entry(PROBE_BANK_CONFIG, "2000"),
      Map.entry(PROBE_QUERIES_CONFIG, "500"),
      Map.entry(PREPARE_THREADS_CONFIG, "2"),
      Map.entry(DEVICE_CONFIG, "cpu"),
      Map.entry(AUGMENT_CONFIG, "v2"),
      Map.entry(MAX_BYTES_CONFIG, String.valueOf(FrameLimits.DEFAULT_MAX_BYTES)),
      Map.entry(MAX_PIXELS_CONFIG, String.valueOf(FrameLimits.DEFAULT_MAX_PIXELS)),
      Map.entry(DECODE_BUDGET_CONFIG, "0"),
      Map.entry(PARTITIONS_CHECK_MS_CONFIG, "30000"),
      Map.entry(MocoConfig.ARCHITECTURE_CONFIG, Architecture.RESNET18_CIFAR));

  private static final Set<String> KNOWN = Set.of(MODEL_NAME_CONFIG, FRAMES_TOPIC_CONFIG, DLQ_TOPIC_CONFIG,
      STEPS_TOPIC_CONFIG, STATE_TOPIC_CONFIG, VERSIONS_TOPIC_CONFIG, BATCH_SIZE_CONFIG, MAX_WAIT_MS_CONFIG,
      MIN_BATCH_CONFIG, PUBLISH_EVERY_STEPS_CONFIG, PUBLISH_EVERY_SECONDS_CONFIG, MAX_STEPS_CONFIG, KEYS_DIR_CONFIG,
      PROBE_CONFIG, PROBE_BANK_CONFIG, PROBE_QUERIES_CONFIG, PREPARE_THREADS_CONFIG, DEVICE_CONFIG, AUGMENT_CONFIG,
      MAX_BYTES_CONFIG, MAX_PIXELS_CONFIG, THREADS_CONFIG, DECODE_BUDGET_CONFIG, PARTITIONS_CHECK_MS_CONFIG,
      CROP_MIN_SCALE_CONFIG);

  private static final ObjectMapper JSON = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private final Map<String, String> properties;

  /** Fills defaults and validates every value, naming the key and value of the first that is wrong. */
  private TrainerConfig(Map<String, String> settings) {
    Map<String, String> all = new TreeMap<>(DEFAULTS);
    // The CPU quota's count (or -Dai.djl.pytorch.num_threads): applied to the training thread, recorded per step.
    all.put(THREADS_CONFIG, String.valueOf(io.mocostream.vision.model.ComputeThreads.configured()));
    all.putAll(settings);
    for (String key : all.keySet()) {
      if (!KNOWN.contains(key) && !key.startsWith("moco.") && !key.equals(ReplayStage.SIZE_CONFIG)) {
        throw new IllegalArgumentException("unknown trainer configuration key '" + key + "'");
      }
    }
    this.properties = java.util.Collections.unmodifiableMap(all);
    if (properties.getOrDefault(MODEL_NAME_CONFIG, "").isBlank()) {
      throw new IllegalArgumentException(MODEL_NAME_CONFIG + " is required");
    }
    String preset = properties.get(AUGMENT_CONFIG);
    if (!preset.equals("v1") && !preset.equals("v2")) {
      throw new IllegalArgumentException(AUGMENT_CONFIG + "='" + preset + "': expected v1 or v2");
    }
    String device = properties.get(DEVICE_CONFIG);
    if (!device.equals("cpu") && !device.equals("gpu")) {
      throw new IllegalArgumentException(DEVICE_CONFIG + "='" + device + "': expected cpu or gpu");
    }
    positive(BATCH_SIZE_CONFIG);
    positive(THREADS_CONFIG);
    positive(PREPARE_THREADS_CONFIG);
    nonNegative(MAX_WAIT_MS_CONFIG);
    nonNegative(PUBLISH_EVERY_STEPS_CONFIG);
    nonNegative(PUBLISH_EVERY_SECONDS_CONFIG);
    nonNegative(MAX_STEPS_CONFIG);
    if (longValue(PUBLISH_EVERY_STEPS_CONFIG) == 0 && longValue(PUBLISH_EVERY_SECONDS_CONFIG) == 0) {
      throw new IllegalArgumentException("set " + PUBLISH_EVERY_STEPS_CONFIG + " or " + PUBLISH_EVERY_SECONDS_CONFIG
          + " above 0: a trainer that never publishes never commits its progress");
    }
    if (intValue(MIN_BATCH_CONFIG) < 2 || intValue(MIN_BATCH_CONFIG) > intValue(BATCH_SIZE_CONFIG)) {
      throw new IllegalArgumentException(MIN_BATCH_CONFIG + "=" + properties.get(MIN_BATCH_CONFIG)
          + " must lie in 2.." + BATCH_SIZE_CONFIG + " (BatchNorm needs two images)");
    }
    nonNegative(DECODE_BUDGET_CONFIG);
    positive(PARTITIONS_CHECK_MS_CONFIG);
    moco(); // validates moco.* keys
    augment();
    ReplayStage.bufferSize(this);
    limits();
  }

  /** A configuration from explicit settings on top of the defaults. */
  public static TrainerConfig of(Map<String, String> settings) {
    return new TrainerConfig(settings);
  }

  /** Every setting, defaults included, sorted by name. */
  public Map<String, String> properties() {
    return properties;
  }

  public String modelName() {
    return properties.get(MODEL_NAME_CONFIG);
  }

  public String framesTopic() {
    return properties.get(FRAMES_TOPIC_CONFIG);
  }

  public String dlqTopic() {
    return properties.get(DLQ_TOPIC_CONFIG);
  }

  public String stepsTopic() {
    return properties.get(STEPS_TOPIC_CONFIG);
  }

  public String stateTopic() {
    return properties.get(STATE_TOPIC_CONFIG);
  }

  public String versionsTopic() {
    return properties.get(VERSIONS_TOPIC_CONFIG);
  }

  public int batchSize() {
    return intValue(BATCH_SIZE_CONFIG);
  }

  public int minBatch() {
    return intValue(MIN_BATCH_CONFIG);
  }

  public Duration maxWait() {
    return Duration.ofMillis(longValue(MAX_WAIT_MS_CONFIG));
  }

  public long publishEverySteps() {
    return longValue(PUBLISH_EVERY_STEPS_CONFIG);
  }

  public Duration publishEvery() {
    return Duration.ofSeconds(longValue(PUBLISH_EVERY_SECONDS_CONFIG));
  }

  public long maxSteps() {
    return longValue(MAX_STEPS_CONFIG);
  }

  public String keysDir() {
    return properties.get(KEYS_DIR_CONFIG);
  }

  public String probe() {
    return properties.get(PROBE_CONFIG);
  }

  public int probeBank() {
    return intValue(PROBE_BANK_CONFIG);
  }

  public int probeQueries() {
    return intValue(PROBE_QUERIES_CONFIG);
  }

  public int prepareThreads() {
    return intValue(PREPARE_THREADS_CONFIG);
  }

  public boolean gpu() {
    return properties.get(DEVICE_CONFIG).equals("gpu");
  }

  public int computeThreads() {
    return intValue(THREADS_CONFIG);
  }

  /** The MoCo configuration from the {@code moco.*} keys. */
  public MocoConfig moco() {
    Map<String, String> moco = new TreeMap<>();
    properties.forEach((k, v) -> {
      if (k.startsWith("moco.")) {
        moco.put(k, v);
      }
    });
    return MocoConfig.fromProperties(moco);
  }

  /** Augmentation for the architecture's input geometry. */
  public AugmentConfig augment() {
    Architecture arch = moco().architecture();
    AugmentConfig preset = properties.get(AUGMENT_CONFIG).equals("v1")
        ? AugmentConfig.mocoV1(arch.inputSize(), arch.channels())
        : AugmentConfig.mocoV2(arch.inputSize(), arch.channels());
    String minScale = properties.get(CROP_MIN_SCALE_CONFIG);
    if (minScale == null) {
      return preset;
    }
    try {
      return preset.withCropScale(Double.parseDouble(minScale.trim()), preset.cropScaleMax());
    } catch (IllegalArgumentException e) { // NumberFormatException included
      throw new IllegalArgumentException(CROP_MIN_SCALE_CONFIG + "='" + minScale + "': expected a number in (0, 1] ("
          + e.getMessage() + ")");
    }
  }

  public FrameLimits limits() {
    return new FrameLimits(longValue(MAX_BYTES_CONFIG), longValue(MAX_PIXELS_CONFIG));
  }

  /**
   * Most pixels one frame is decoded to: {@value #DECODE_BUDGET_CONFIG}, or by default 16 × the input side² (at
   * least 65536). RandomResizedCrop takes down to a fifth of the area, so a frame decoded to 16 × side² still gives
   * that smallest crop about 3 × side² pixels: views are never upsampled from a thinner decode.
   */
  public long decodePixels() {
    long set = longValue(DECODE_BUDGET_CONFIG);
    if (set > 0) {
      return set;
    }
    long side = moco().architecture().inputSize();
    return Math.max(16 * side * side, 65_536);
  }

  /** {@value #PARTITIONS_CHECK_MS_CONFIG}. */
  public Duration partitionsCheck() {
    return Duration.ofMillis(longValue(PARTITIONS_CHECK_MS_CONFIG));
  }

  /**
   * What decides the computation: replay needs exactly these, and they make the config fingerprint. The thread
   * count is not among them: it is recorded with each step (replay sets it back per step), so a trainer
   * rescheduled onto a node of another size resumes.
   */
  public Map<String, String> computeProperties() {
    Map<String, String> compute = new TreeMap<>();
    properties.forEach((k, v) -> {
      if (k.startsWith("moco.") || k.startsWith("augment.") || k.startsWith("decode.")) {
        compute.put(k, v);
      }
      // Only when on: runs without a buffer keep the fingerprint they had before the key existed.
      if (k.equals(ReplayStage.SIZE_CONFIG) && !v.trim().equals("0")) {
        compute.put(k, v);
      }
    });
    return compute;
  }

  /** {@link #computeProperties()} as canonical JSON (keys sorted). */
  public String computeJson() {
    try {
      return JSON.writeValueAsString(computeProperties());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the configuration as JSON", e);
    }
  }

  /** Hex SHA-256 of {@link #computeJson()}. */
  public String fingerprint() {
    return Sha256.hex(computeJson().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Whether a checkpoint's configuration JSON describes the same computation as this config; a thread count in it
   * (checkpoints written before the count moved to the step log) does not count.
   */
  public boolean sameComputation(String checkpointJson) {
    Map<String, String> theirs = parseComputeJson(checkpointJson);
    theirs.remove(THREADS_CONFIG);
    return theirs.equals(computeProperties());
  }

  /** Reads the compute part back from a checkpoint's JSON. */
  @SuppressWarnings("unchecked")
  public static Map<String, String> parseComputeJson(String json) {
    try {
      return new TreeMap<>(JSON.readValue(json, Map.class));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("checkpoint configuration is not a JSON object of strings: " + json, e);
    }
  }

  private void positive(String key) {
    if (longValue(key) <= 0) {
      throw new IllegalArgumentException(key + "=" + properties.get(key) + " must be > 0");
    }
  }

  private void nonNegative(String key) {
    if (longValue(key) < 0) {
      throw new IllegalArgumentException(key + "=" + properties.get(key) + " must be >= 0");
    }
  }

  int intValue(String key) {
    return Math.toIntExact(longValue(key));
  }

  long longValue(String key) {
    String v = properties.get(key);
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException | NullPointerException e) {
      throw new IllegalArgumentException(key + "='" + v + "' is not an integer");
    }
  }

  @Override
  public String toString() {
    return "TrainerConfig" + properties;
  }
}
