package io.mocostream.trainer.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.frames.FrameLimits;
import io.mocostream.trainer.moco.MocoConfig;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.model.Architecture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The streaming trainer's configuration: where it reads and writes, how it forms micro-batches,
 * when it publishes, and (through {@code moco.*} keys, see {@link MocoConfig}) what it computes.
 *
 * <p>Like Kafka's client configs, it is a map of strings with documented names (the {@code
 * *_CONFIG} constants), each defined once (type, default, validator, documentation) in a Kafka
 * {@link ConfigDef}; {@link #describe()} prints them all. The part that decides the computation
 * ({@link #computeProperties()}: {@code moco.*}, {@code augment.*}, {@code decode.*} and the thread
 * count) travels with every checkpoint, so that replay rebuilds the same run; its SHA-256 is the
 * manifest's config fingerprint.
 */
public final class TrainerConfig {

  public static final String MODEL_NAME_CONFIG = "trainer.model";
  private static final String MODEL_NAME_DOC =
      "Name of the model; keys the model topic, the state topic and the step" + " log. Required";
  public static final String FRAMES_TOPIC_CONFIG = "trainer.topic.frames";
  private static final String FRAMES_TOPIC_DOC = "Topic the frames are read from (read_committed)";
  public static final String DLQ_TOPIC_CONFIG = "trainer.topic.dlq";
  private static final String DLQ_TOPIC_DOC =
      "Where frames that fail to decode or break a limit go, with the reason" + " in headers";
  public static final String STEPS_TOPIC_CONFIG = "trainer.topic.steps";
  private static final String STEPS_TOPIC_DOC =
      "Step log: one TrainerStep record per step, in the checkpoint's" + " transaction";
  public static final String STATE_TOPIC_CONFIG = "trainer.topic.state";
  private static final String STATE_TOPIC_DOC = "Full resumable state, chunked";
  public static final String VERSIONS_TOPIC_CONFIG = "trainer.topic.versions";
  private static final String VERSIONS_TOPIC_DOC =
      "The model topic: encoder versions, chunked and signed";
  public static final String BATCH_SIZE_CONFIG = "trainer.batch.size";
  private static final String BATCH_SIZE_DOC =
      "Records per micro-batch: a batch closes when it holds this many"
          + " records or trainer.batch.max.wait.ms after its first, whichever comes first";
  public static final String MAX_WAIT_MS_CONFIG = "trainer.batch.max.wait.ms";
  private static final String MAX_WAIT_MS_DOC =
      "Longest wait, ms, from a batch's first record to its step";
  public static final String MIN_BATCH_CONFIG = "trainer.batch.min";
  private static final String MIN_BATCH_DOC =
      "Smallest batch worth a step (2..trainer.batch.size): a batch with"
          + " fewer usable images after rejections waits for more";
  public static final String PUBLISH_EVERY_STEPS_CONFIG = "trainer.publish.every.steps";
  private static final String PUBLISH_EVERY_STEPS_DOC =
      "Publish (and checkpoint) every this many steps; 0 = only" + " by time";
  public static final String PUBLISH_EVERY_SECONDS_CONFIG = "trainer.publish.every.seconds";
  private static final String PUBLISH_EVERY_SECONDS_DOC =
      "Publish (and checkpoint) every this many seconds; 0 =" + " only by steps";
  public static final String MAX_STEPS_CONFIG = "trainer.max.steps";
  private static final String MAX_STEPS_DOC =
      "Stop after this many steps in total (0 = run until stopped)";
  public static final String KEYS_DIR_CONFIG = "trainer.keys.dir";
  private static final String KEYS_DIR_DOC =
      "Directory of the trainer's Ed25519 key pair (created on first run;"
          + " public key exported there)";
  public static final String PROBE_CONFIG = "trainer.probe";
  private static final String PROBE_DOC =
      "Labelled probe set for the kNN monitor: IMAGES,LABELS IDX files,"
          + " fashion-mnist, or empty (no monitor)";
  public static final String PROBE_BANK_CONFIG = "trainer.probe.bank";
  private static final String PROBE_BANK_DOC = "Probe images used as the kNN memory bank";
  public static final String PROBE_QUERIES_CONFIG = "trainer.probe.queries";
  private static final String PROBE_QUERIES_DOC =
      "Probe images used as kNN queries (held out from the bank)";
  public static final String PREPARE_THREADS_CONFIG = "trainer.prepare.threads";
  private static final String PREPARE_THREADS_DOC =
      "Threads that decode and augment the next batch while the" + " current one trains";
  public static final String DEVICE_CONFIG = "trainer.device";
  private static final String DEVICE_DOC = "cpu or gpu";
  public static final String AUGMENT_CONFIG = "augment.preset";
  private static final String AUGMENT_DOC = "Augmentation: v2 (aug+) or v1";
  public static final String CROP_MIN_SCALE_CONFIG = "augment.crop.min.scale";
  private static final String CROP_MIN_SCALE_DOC =
      "RandomResizedCrop's smallest area fraction, in (0, 1] (unset:"
          + " the augmentation preset's, 0.2 for v2); at 28 px a fifth of the image is a few strokes";
  public static final String BLUR_PROBABILITY_CONFIG = "augment.blur.probability";
  private static final String BLUR_PROBABILITY_DOC =
      "Probability of MoCo v2's Gaussian blur per view, in [0, 1] (unset: the augmentation preset's,"
          + " 0.5 for v2); the authors' CIFAR demo uses none (at 28-32 px the kernel is 3 pixels wide)";
  public static final String MAX_BYTES_CONFIG = "decode.max.bytes";
  private static final String MAX_BYTES_DOC = "Largest frame payload accepted, bytes";
  public static final String MAX_PIXELS_CONFIG = "decode.max.pixels";
  private static final String MAX_PIXELS_DOC =
      "Largest frame accepted, pixels (width x height, from the header," + " before decoding)";
  public static final String DECODE_BUDGET_CONFIG = "decode.budget.pixels";
  private static final String DECODE_BUDGET_DOC =
      "Most pixels one frame is decoded to (larger frames are subsampled"
          + " while decoding), so a batch holds at most trainer.batch.size x this many pixels; 0 = 16 x the"
          + " architecture's input side squared, at least 65536";
  public static final String PARTITIONS_CHECK_MS_CONFIG = "trainer.partitions.check.ms";
  private static final String PARTITIONS_CHECK_MS_DOC =
      "How often the frames topic's partition count is checked,"
          + " ms, so partitions added at run time are read";

  /** See {@link ReplayStage}. */
  public static final String REPLAY_BUFFER_SIZE_CONFIG = ReplayStage.SIZE_CONFIG;

  private static final String REPLAY_BUFFER_SIZE_DOC =
      "Frames kept in a redundancy-reducing replay buffer (after"
          + " MinRed; steps train on batches drawn from it, for correlated feeds); 0 = off, else at least 2";
  public static final String THREADS_CONFIG = "compute.threads";
  private static final String THREADS_DOC =
      "PyTorch intra-op threads (unset: the container's CPU quota, or"
          + " -Dai.djl.pytorch.num_threads); recorded with each step for replay";

  /**
   * Every trainer key (the moco.* keys are {@link MocoConfig}'s): type, default, validator, doc,
   * defined once.
   */
  private static final ConfigDef CONFIG =
      new ConfigDef()
          .define(MODEL_NAME_CONFIG, Type.STRING, null, Importance.HIGH, MODEL_NAME_DOC)
          .define(FRAMES_TOPIC_CONFIG, Type.STRING, "frames.raw", Importance.HIGH, FRAMES_TOPIC_DOC)
          .define(DLQ_TOPIC_CONFIG, Type.STRING, "frames.dlq", Importance.MEDIUM, DLQ_TOPIC_DOC)
          .define(
              STEPS_TOPIC_CONFIG, Type.STRING, "trainer.steps", Importance.MEDIUM, STEPS_TOPIC_DOC)
          .define(
              STATE_TOPIC_CONFIG, Type.STRING, "trainer.state", Importance.MEDIUM, STATE_TOPIC_DOC)
          .define(
              VERSIONS_TOPIC_CONFIG,
              Type.STRING,
              "encoder.versions",
              Importance.MEDIUM,
              VERSIONS_TOPIC_DOC)
          .define(
              BATCH_SIZE_CONFIG, Type.INT, 64, Range.atLeast(1), Importance.HIGH, BATCH_SIZE_DOC)
          .define(
              MAX_WAIT_MS_CONFIG,
              Type.LONG,
              2000L,
              Range.atLeast(0),
              Importance.MEDIUM,
              MAX_WAIT_MS_DOC)
          .define(MIN_BATCH_CONFIG, Type.INT, 2, Range.atLeast(2), Importance.LOW, MIN_BATCH_DOC)
          .define(
              PUBLISH_EVERY_STEPS_CONFIG,
              Type.LONG,
              100L,
              Range.atLeast(0),
              Importance.HIGH,
              PUBLISH_EVERY_STEPS_DOC)
          .define(
              PUBLISH_EVERY_SECONDS_CONFIG,
              Type.LONG,
              0L,
              Range.atLeast(0),
              Importance.HIGH,
              PUBLISH_EVERY_SECONDS_DOC)
          .define(
              MAX_STEPS_CONFIG, Type.LONG, 0L, Range.atLeast(0), Importance.MEDIUM, MAX_STEPS_DOC)
          .define(KEYS_DIR_CONFIG, Type.STRING, "keys", Importance.HIGH, KEYS_DIR_DOC)
          .define(PROBE_CONFIG, Type.STRING, "", Importance.MEDIUM, PROBE_DOC)
          .define(
              PROBE_BANK_CONFIG, Type.INT, 2000, Range.atLeast(1), Importance.LOW, PROBE_BANK_DOC)
          .define(
              PROBE_QUERIES_CONFIG,
              Type.INT,
              500,
              Range.atLeast(1),
              Importance.LOW,
              PROBE_QUERIES_DOC)
          .define(
              PREPARE_THREADS_CONFIG,
              Type.INT,
              2,
              Range.atLeast(1),
              Importance.LOW,
              PREPARE_THREADS_DOC)
          .define(
              DEVICE_CONFIG,
              Type.STRING,
              "cpu",
              ConfigDef.ValidString.in("cpu", "gpu"),
              Importance.HIGH,
              DEVICE_DOC)
          .define(
              AUGMENT_CONFIG,
              Type.STRING,
              "v2",
              ConfigDef.ValidString.in("v1", "v2"),
              Importance.MEDIUM,
              AUGMENT_DOC)
          .define(
              CROP_MIN_SCALE_CONFIG,
              Type.DOUBLE,
              null,
              MocoConfig.validator(
                  "(0.0, 1.0] or unset",
                  (name, value) -> {
                    if (value != null && !((Double) value > 0 && (Double) value <= 1)) {
                      throw new ConfigException(name, value, "expected a number in (0, 1]");
                    }
                  }),
              Importance.LOW,
              CROP_MIN_SCALE_DOC)
          .define(
              BLUR_PROBABILITY_CONFIG,
              Type.DOUBLE,
              null,
              MocoConfig.validator(
                  "[0.0, 1.0] or unset",
                  (name, value) -> {
                    if (value != null && !((Double) value >= 0 && (Double) value <= 1)) {
                      throw new ConfigException(name, value, "expected a number in [0, 1]");
                    }
                  }),
              Importance.LOW,
              BLUR_PROBABILITY_DOC)
          .define(
              MAX_BYTES_CONFIG,
              Type.LONG,
              (long) FrameLimits.DEFAULT_MAX_BYTES,
              Range.atLeast(1),
              Importance.MEDIUM,
              MAX_BYTES_DOC)
          .define(
              MAX_PIXELS_CONFIG,
              Type.LONG,
              (long) FrameLimits.DEFAULT_MAX_PIXELS,
              Range.atLeast(1),
              Importance.MEDIUM,
              MAX_PIXELS_DOC)
          .define(
              DECODE_BUDGET_CONFIG,
              Type.LONG,
              0L,
              Range.atLeast(0),
              Importance.LOW,
              DECODE_BUDGET_DOC)
          .define(
              PARTITIONS_CHECK_MS_CONFIG,
              Type.LONG,
              30_000L,
              Range.atLeast(1),
              Importance.LOW,
              PARTITIONS_CHECK_MS_DOC)
          .define(
              REPLAY_BUFFER_SIZE_CONFIG,
              Type.INT,
              0,
              MocoConfig.validator(
                  "0 or [2,...]",
                  (name, value) -> {
                    if (value == null || ((Integer) value != 0 && (Integer) value < 2)) {
                      throw new ConfigException(name, value, "must be 0 (off) or at least 2");
                    }
                  }),
              Importance.MEDIUM,
              REPLAY_BUFFER_SIZE_DOC)
          .define(
              THREADS_CONFIG,
              Type.INT,
              null,
              MocoConfig.validator(
                  "[1,...]",
                  (name, value) -> {
                    if (value != null && (Integer) value < 1) {
                      throw new ConfigException(name, value, "must be >= 1");
                    }
                  }),
              Importance.LOW,
              THREADS_DOC);

  private static final ObjectMapper JSON =
      new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private final Map<String, String> properties;

  /**
   * Fills defaults and validates every value, naming the key and value of the first that is wrong.
   */
  private TrainerConfig(Map<String, String> settings) {
    Map<String, String> all = new TreeMap<>();
    CONFIG
        .configKeys()
        .values()
        .forEach(
            k -> {
              if (k.defaultValue != null) {
                all.put(k.name, String.valueOf(k.defaultValue));
              }
            });
    all.put(MocoConfig.ARCHITECTURE_CONFIG, Architecture.RESNET18_CIFAR);
    // The CPU quota's count (or -Dai.djl.pytorch.num_threads): applied to the training thread,
    // recorded per step.
    all.put(THREADS_CONFIG, String.valueOf(io.mocostream.vision.model.ComputeThreads.configured()));
    // A moco.preset's values are written out, so that the computation's properties (and the
    // fingerprint) hold the
    // values, not a name whose meaning could change.
    all.putAll(MocoConfig.withPreset(settings));
    Map<String, String> trainerKeys = new TreeMap<>();
    for (Map.Entry<String, String> e : all.entrySet()) {
      if (CONFIG.names().contains(e.getKey())) {
        trainerKeys.put(e.getKey(), e.getValue());
      } else if (!e.getKey().startsWith("moco.")) {
        throw new IllegalArgumentException(
            "unknown trainer configuration key '" + e.getKey() + "'");
      }
    }
    this.properties = java.util.Collections.unmodifiableMap(all);
    if (properties.getOrDefault(MODEL_NAME_CONFIG, "").isBlank()) {
      throw new IllegalArgumentException(MODEL_NAME_CONFIG + " is required");
    }
    try {
      CONFIG.parse(trainerKeys);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    if (longValue(PUBLISH_EVERY_STEPS_CONFIG) == 0
        && longValue(PUBLISH_EVERY_SECONDS_CONFIG) == 0) {
      throw new IllegalArgumentException(
          "set "
              + PUBLISH_EVERY_STEPS_CONFIG
              + " or "
              + PUBLISH_EVERY_SECONDS_CONFIG
              + " above 0: a trainer that never publishes never commits its progress");
    }
    if (intValue(MIN_BATCH_CONFIG) > intValue(BATCH_SIZE_CONFIG)) {
      throw new IllegalArgumentException(
          MIN_BATCH_CONFIG
              + "="
              + properties.get(MIN_BATCH_CONFIG)
              + " must lie in 2.."
              + BATCH_SIZE_CONFIG
              + " (BatchNorm needs two images)");
    }
    moco(); // validates moco.* keys
    augment();
    ReplayStage.bufferSize(this);
    limits();
  }

  /**
   * A copy of the definitions of the trainer's own keys (the moco.* keys: {@link
   * MocoConfig#configDef()}).
   */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /**
   * Every setting as a table (name, type, default, valid values, then what it does), trainer keys
   * first, then the moco.* keys and their presets: what {@code train --help-config} prints.
   */
  public static String describe() {
    StringBuilder b = new StringBuilder();
    b.append("Trainer settings (-D KEY=VALUE):\n\n");
    table(b, CONFIG);
    b.append(
        "\nMoCo settings (-D KEY=VALUE; in the config fingerprint, with augment.* and decode.*):\n\n");
    table(b, MocoConfig.configDef());
    b.append("\nPresets (").append(MocoConfig.PRESET_CONFIG).append("; a key that is set wins):\n");
    for (MocoConfig.Preset p : MocoConfig.Preset.values()) {
      b.append("  ")
          .append(p.key())
          .append(": ")
          .append(
              p.settings().isEmpty()
                  ? "the defaults above"
                  : new TreeMap<>(p.settings()).toString())
          .append('\n');
    }
    return b.toString();
  }

  private static void table(StringBuilder b, ConfigDef def) {
    java.util.List<ConfigDef.ConfigKey> keys = new java.util.ArrayList<>(def.configKeys().values());
    keys.sort(java.util.Comparator.comparing(k -> k.name));
    int width = keys.stream().mapToInt(k -> k.name.length()).max().orElse(10);
    b.append(
        String.format(
            java.util.Locale.ROOT,
            "  %-" + width + "s  %-7s  %-16s  %s%n",
            "KEY",
            "TYPE",
            "DEFAULT",
            "VALID"));
    for (ConfigDef.ConfigKey k : keys) {
      String dflt = k.defaultValue == null ? "-" : String.valueOf(k.defaultValue);
      if (k.name.equals(THREADS_CONFIG)) {
        dflt = "(CPU quota)";
      }
      b.append(
          String.format(
              java.util.Locale.ROOT,
              "  %-" + width + "s  %-7s  %-16s  %s%n",
              k.name,
              k.type.toString().toLowerCase(java.util.Locale.ROOT),
              dflt.isEmpty() ? "\"\"" : dflt,
              k.validator == null ? "" : k.validator.toString()));
      b.append("      ").append(k.documentation).append('\n');
    }
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
    properties.forEach(
        (k, v) -> {
          if (k.startsWith("moco.")) {
            moco.put(k, v);
          }
        });
    return MocoConfig.fromProperties(moco);
  }

  /** Augmentation for the architecture's input geometry. */
  public AugmentConfig augment() {
    Architecture arch = moco().architecture();
    AugmentConfig preset =
        properties.get(AUGMENT_CONFIG).equals("v1")
            ? AugmentConfig.mocoV1(arch.inputSize(), arch.channels())
            : AugmentConfig.mocoV2(arch.inputSize(), arch.channels());
    String blur = properties.get(BLUR_PROBABILITY_CONFIG);
    if (blur != null) { // validated by the ConfigDef when the properties were read
      preset = preset.withBlurP(Double.parseDouble(blur.trim()));
    }
    String minScale = properties.get(CROP_MIN_SCALE_CONFIG);
    if (minScale == null) {
      return preset;
    }
    try {
      return preset.withCropScale(Double.parseDouble(minScale.trim()), preset.cropScaleMax());
    } catch (IllegalArgumentException e) { // NumberFormatException included
      throw new IllegalArgumentException(
          CROP_MIN_SCALE_CONFIG
              + "='"
              + minScale
              + "': expected a number in (0, 1] ("
              + e.getMessage()
              + ")");
    }
  }

  public FrameLimits limits() {
    return new FrameLimits(longValue(MAX_BYTES_CONFIG), longValue(MAX_PIXELS_CONFIG));
  }

  /**
   * Most pixels one frame is decoded to: {@value #DECODE_BUDGET_CONFIG}, or by default 16 × the
   * input side² (at least 65536). RandomResizedCrop takes down to a fifth of the area, so a frame
   * decoded to 16 × side² still gives that smallest crop about 3 × side² pixels: views are never
   * upsampled from a thinner decode.
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
   * What decides the computation: replay needs exactly these, and they make the config fingerprint.
   * The thread count is not among them: it is recorded with each step (replay sets it back per
   * step), so a trainer rescheduled onto a node of another size resumes.
   */
  public Map<String, String> computeProperties() {
    Map<String, String> compute = new TreeMap<>();
    properties.forEach(
        (k, v) -> {
          // moco.preset is written out into the keys it sets (see the constructor): only the values
          // count
          if ((k.startsWith("moco.") && !k.equals(MocoConfig.PRESET_CONFIG))
              || k.startsWith("augment.")
              || k.startsWith("decode.")) {
            compute.put(k, v);
          }
          // Only when on: runs without a buffer keep the fingerprint they had before the key
          // existed.
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
   * Whether a checkpoint's configuration JSON describes the same computation as this config; a
   * thread count in it (checkpoints written before the count moved to the step log) does not count.
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
      throw new IllegalArgumentException(
          "checkpoint configuration is not a JSON object of strings: " + json, e);
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
