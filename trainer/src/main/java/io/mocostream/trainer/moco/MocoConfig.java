package io.mocostream.trainer.moco;

import io.mocostream.trainer.optim.LearningRate;
import io.mocostream.vision.model.Architecture;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Everything that decides what a {@link MocoEngine} computes. Defaults are MoCo v2's ({@code
 * main_moco.py} with {@code --mlp --moco-t 0.2 --aug-plus}) except the learning-rate schedule,
 * which is warm-up + constant for streams (see {@link LearningRate}). {@link Preset#SMALL_DATA}
 * ({@code moco.preset=small-data}, {@link Builder#preset}) applies the settings of the authors'
 * CIFAR-10 demo, tuned on Fashion-MNIST.
 *
 * <p>As a map of strings (CLI, properties files) the keys are the {@code *_CONFIG} constants below,
 * each defined once (type, default, validator, documentation) in a Kafka {@link ConfigDef} as
 * Kafka's own client configs are; see {@link #fromProperties} and {@link #configDef()}.
 *
 * @param architecture encoder to build (backbone, head, embedding dimension, input geometry)
 * @param queueSize K, negatives in the queue (65536)
 * @param keyMomentum m in f_k ← m·f_k + (1−m)·f_q (0.999; 0.99 for small data)
 * @param temperature T of the InfoNCE logits (0.2 for v2, 0.07 for v1)
 * @param symmetric both views serve as query and as key and the two losses are summed, as the CIFAR
 *     demo does; both key batches are enqueued (helps on small data)
 * @param learningRate schedule over optimizer steps
 * @param sgdMomentum μ of SGD (0.9)
 * @param weightDecay L2 weight decay (1e-4; 5e-4 for small images)
 * @param seed decides the initial weights and every shuffle permutation
 * @param shuffleBnGroups G: the shuffled key batch is split into G groups, each normalised by
 *     BatchNorm on its own (the single-device form of MoCo's shuffle BN); 1 turns the shuffle's
 *     effect off
 * @param sameSourceWindowMs if &gt; 0, queue keys from the query's own source captured within this
 *     many milliseconds of the query frame are masked out of the negatives; 0 = off
 * @param gradClipNorm if &gt; 0, gradients are scaled down so that their global L2 norm is at most
 *     this (not in MoCo); 0 = off, as in the reference. The non-finite gradients it once hid came
 *     from a temperature scalar freed before the backward pass (see {@link InfoNce})
 * @param lrScaling {@code LINEAR} (default): the step's rate is the schedule's rate × N / 256 for a
 *     micro-batch of N images, the linear scaling rule the reference's rates follow (0.03 at 256 on
 *     ImageNet, 0.06 at 512 in the CIFAR demo); a small micro-batch thus moves the weights
 *     proportionally less. {@code NONE}: the schedule's rate as is
 * @param queueInit {@code RANDOM} (default, the reference): the queue starts full of random unit
 *     keys, so step 0 already has K negatives; {@code EMPTY}: it starts empty and only real keys
 *     are ever negatives
 */
public record MocoConfig(
    Architecture architecture,
    int queueSize,
    float keyMomentum,
    float temperature,
    boolean symmetric,
    LearningRate learningRate,
    float sgdMomentum,
    float weightDecay,
    long seed,
    int shuffleBnGroups,
    long sameSourceWindowMs,
    float gradClipNorm,
    LrScaling lrScaling,
    QueueInit queueInit) {

  /** How the learning rate follows the micro-batch size. */
  public enum LrScaling {
    LINEAR,
    NONE
  }

  /** How the queue starts. */
  public enum QueueInit {
    RANDOM,
    EMPTY
  }

  /** The batch size the base learning rate is stated for under {@link LrScaling#LINEAR}. */
  public static final int LR_REFERENCE_BATCH = 256;

  public static final String PRESET_CONFIG = "moco.preset";
  private static final String PRESET_DOC =
      "Named set of defaults laid under the other moco.* keys (a key that is"
          + " set wins): default (MoCo v2, main_moco.py with --mlp --moco-t 0.2 --aug-plus) or small-data (the"
          + " authors' CIFAR-10 demo on small images, tuned on Fashion-MNIST: what demo and bench learn use)";
  public static final String ARCHITECTURE_CONFIG = "moco.architecture";
  private static final String ARCHITECTURE_DOC =
      "Encoder: resnet18-cifar, resnet18-narrow or resnet50, optionally"
          + " with ,channels=C,size=S,width=W,head=mlp|linear,dim=D";
  public static final String QUEUE_SIZE_CONFIG = "moco.queue.size";
  private static final String QUEUE_SIZE_DOC =
      "K: keys in the queue of negatives (any micro-batch size enqueues)";
  public static final String KEY_MOMENTUM_CONFIG = "moco.key.momentum";
  private static final String KEY_MOMENTUM_DOC =
      "m in f_k <- m*f_k + (1-m)*f_q, after every applied step";
  public static final String TEMPERATURE_CONFIG = "moco.temperature";
  private static final String TEMPERATURE_DOC = "T of the InfoNCE logits (0.2 for v2, 0.07 for v1)";
  public static final String SYMMETRIC_CONFIG = "moco.symmetric";
  private static final String SYMMETRIC_DOC =
      "Both views serve as query and as key; the two losses are summed and"
          + " both key batches enqueued, as the CIFAR demo";

  /**
   * Base learning rate: for a batch of 256 under linear scaling (the default), else the rate
   * itself.
   */
  public static final String LR_CONFIG = "moco.lr";

  private static final String LR_DOC =
      "Base learning rate: per 256 images under moco.lr.scaling=linear, else the" + " rate itself";

  /**
   * {@code constant} (warm-up then constant, the stream default), {@code cyclic} or {@code cosine}.
   */
  public static final String LR_SCHEDULE_CONFIG = "moco.lr.schedule";

  private static final String LR_SCHEDULE_DOC =
      "constant (linear warm-up, then constant: a stream has no last"
          + " epoch), cyclic (warm-up, then cosine cycles between moco.lr and moco.lr.min) or cosine (warm-up,"
          + " then one cosine decay over moco.lr.total.steps)";
  public static final String LR_WARMUP_STEPS_CONFIG = "moco.lr.warmup.steps";
  private static final String LR_WARMUP_STEPS_DOC = "Steps of linear warm-up from 0 to moco.lr";

  /** Cycle length of the {@code cyclic} schedule. */
  public static final String LR_CYCLE_STEPS_CONFIG = "moco.lr.cycle.steps";

  private static final String LR_CYCLE_STEPS_DOC = "Cycle length of the cyclic schedule, steps";

  /** Lowest rate of the {@code cyclic} schedule. */
  public static final String LR_MIN_CONFIG = "moco.lr.min";

  private static final String LR_MIN_DOC = "Lowest rate of the cyclic schedule";

  /** Run length of the {@code cosine} schedule. */
  public static final String LR_TOTAL_STEPS_CONFIG = "moco.lr.total.steps";

  private static final String LR_TOTAL_STEPS_DOC =
      "Run length of the cosine schedule, steps (required by it)";
  public static final String SGD_MOMENTUM_CONFIG = "moco.sgd.momentum";
  private static final String SGD_MOMENTUM_DOC = "Momentum of SGD, in PyTorch's form";
  public static final String WEIGHT_DECAY_CONFIG = "moco.weight.decay";
  private static final String WEIGHT_DECAY_DOC = "L2 weight decay (1e-4; 5e-4 for small images)";
  public static final String SEED_CONFIG = "moco.seed";
  private static final String SEED_DOC =
      "Decides the initial weights, the initial queue and every shuffle"
          + " permutation (with the step)";
  public static final String SHUFFLE_BN_GROUPS_CONFIG = "moco.shuffle.bn.groups";
  private static final String SHUFFLE_BN_GROUPS_DOC =
      "G: BatchNorm groups of split BN in both encoders (the key"
          + " batch shuffled first): the single-device form of shuffle BN; lowered so that each group has 2 images";
  public static final String SAME_SOURCE_WINDOW_MS_CONFIG = "moco.same.source.window.ms";
  private static final String SAME_SOURCE_WINDOW_MS_DOC =
      "Queue keys from the query's own source captured within"
          + " this many ms of it are masked out of the negatives (correlated feeds); 0 = off";

  /** Global gradient-norm clip, 0 = off (the reference's behaviour). */
  public static final String GRAD_CLIP_NORM_CONFIG = "moco.grad.clip.norm";

  private static final String GRAD_CLIP_NORM_DOC =
      "Gradients scaled down to this global L2 norm (not in MoCo);" + " 0 = off, as the reference";

  /** {@code linear} (rate × N/256, the default) or {@code none}. */
  public static final String LR_SCALING_CONFIG = "moco.lr.scaling";

  private static final String LR_SCALING_DOC =
      "linear: a step's rate is the schedule's x N/256 for N images (the"
          + " reference's rule); none: the schedule's rate as is";

  /** {@code random} (unit keys, the reference's start, the default) or {@code empty}. */
  public static final String QUEUE_INIT_CONFIG = "moco.queue.init";

  private static final String QUEUE_INIT_DOC =
      "random: the queue starts full of random unit keys, as the"
          + " reference; empty: only real keys are ever negatives";

  public static final int DEFAULT_QUEUE_SIZE = 65536;
  public static final float DEFAULT_KEY_MOMENTUM = 0.999f;
  public static final float DEFAULT_TEMPERATURE = 0.2f;
  public static final float DEFAULT_LR = 0.03f;
  public static final long DEFAULT_WARMUP_STEPS = 500;
  public static final float DEFAULT_SGD_MOMENTUM = 0.9f;
  public static final float DEFAULT_WEIGHT_DECAY = 1e-4f;

  /**
   * 2: at batch 64 each group normalises 32 keys, as each of the reference's 8 GPUs did with 256 /
   * 8 = 32 images (the CIFAR demo's split BN used 512 / 8 = 64). Eight groups of 8 made BatchNorm
   * statistics noisier than the reference's and cost 15 % more key-forward time on CPU (small
   * convolutions run less efficiently).
   */
  public static final int DEFAULT_SHUFFLE_BN_GROUPS = 2;

  /** Named defaults: {@value #PRESET_CONFIG}. */
  public enum Preset {
    /** MoCo v2's defaults. */
    DEFAULT("default", Map.of()),
    /**
     * Small data, small images: the authors' CIFAR-10 demo (K 4096, m 0.99, T 0.1, wd 5e-4,
     * symmetric loss summed) with base lr 0.06 per 256 images (0.015 at batch 64) and a 20-step
     * warm-up, tuned on Fashion-MNIST (see the README's learning section). The demo and bench learn
     * train with it.
     */
    SMALL_DATA(
        "small-data",
        Map.of(
            QUEUE_SIZE_CONFIG, "4096",
            KEY_MOMENTUM_CONFIG, "0.99",
            TEMPERATURE_CONFIG, "0.1",
            WEIGHT_DECAY_CONFIG, "5e-4",
            SYMMETRIC_CONFIG, "true",
            LR_CONFIG, "0.06",
            LR_WARMUP_STEPS_CONFIG, "20"));

    private final String key;
    private final Map<String, String> settings;

    Preset(String key, Map<String, String> settings) {
      this.key = key;
      this.settings = settings;
    }

    /** Its value of {@value #PRESET_CONFIG}. */
    public String key() {
      return key;
    }

    /** The moco.* settings it lays under the ones given. */
    public Map<String, String> settings() {
      return settings;
    }

    /** The preset named by {@code value} (case-insensitive). */
    public static Preset of(String value) {
      for (Preset p : values()) {
        if (p.key.equalsIgnoreCase(value.trim())) {
          return p;
        }
      }
      throw new IllegalArgumentException(
          PRESET_CONFIG
              + "='"
              + value
              + "' is unknown; expected one of "
              + java.util.Arrays.stream(values()).map(Preset::key).toList());
    }
  }

  /** Every moco.* key: name, type, default, validator and documentation, each defined here once. */
  private static final ConfigDef CONFIG =
      new ConfigDef()
          .define(
              PRESET_CONFIG,
              Type.STRING,
              Preset.DEFAULT.key(),
              ConfigDef.CaseInsensitiveValidString.in(presetNames()),
              Importance.HIGH,
              PRESET_DOC)
          .define(
              ARCHITECTURE_CONFIG,
              Type.STRING,
              Architecture.RESNET18_CIFAR,
              validator(
                  "an architecture",
                  (name, value) -> {
                    try {
                      Architecture.parse((String) value);
                    } catch (IllegalArgumentException e) {
                      throw new ConfigException(name, value, e.getMessage());
                    }
                  }),
              Importance.HIGH,
              ARCHITECTURE_DOC)
          .define(
              QUEUE_SIZE_CONFIG,
              Type.INT,
              DEFAULT_QUEUE_SIZE,
              Range.atLeast(1),
              Importance.HIGH,
              QUEUE_SIZE_DOC)
          .define(
              KEY_MOMENTUM_CONFIG,
              Type.DOUBLE,
              decimal(DEFAULT_KEY_MOMENTUM),
              within(0, true, 1, true),
              Importance.HIGH,
              KEY_MOMENTUM_DOC)
          .define(
              TEMPERATURE_CONFIG,
              Type.DOUBLE,
              decimal(DEFAULT_TEMPERATURE),
              within(0, false, Double.MAX_VALUE, true),
              Importance.HIGH,
              TEMPERATURE_DOC)
          .define(SYMMETRIC_CONFIG, Type.BOOLEAN, false, Importance.MEDIUM, SYMMETRIC_DOC)
          .define(
              LR_CONFIG,
              Type.DOUBLE,
              decimal(DEFAULT_LR),
              within(0, false, Double.MAX_VALUE, true),
              Importance.HIGH,
              LR_DOC)
          .define(
              LR_SCHEDULE_CONFIG,
              Type.STRING,
              "constant",
              ConfigDef.CaseInsensitiveValidString.in("constant", "cyclic", "cosine"),
              Importance.MEDIUM,
              LR_SCHEDULE_DOC)
          .define(
              LR_WARMUP_STEPS_CONFIG,
              Type.LONG,
              DEFAULT_WARMUP_STEPS,
              Range.atLeast(0),
              Importance.MEDIUM,
              LR_WARMUP_STEPS_DOC)
          .define(
              LR_CYCLE_STEPS_CONFIG,
              Type.LONG,
              10_000L,
              Range.atLeast(1),
              Importance.LOW,
              LR_CYCLE_STEPS_DOC)
          .define(LR_MIN_CONFIG, Type.DOUBLE, 0.0, atLeast(0), Importance.LOW, LR_MIN_DOC)
          .define(
              LR_TOTAL_STEPS_CONFIG,
              Type.LONG,
              null,
              validator(
                  "[1,...] or unset",
                  (name, value) -> {
                    if (value != null && (Long) value < 1) {
                      throw new ConfigException(name, value, "must be >= 1");
                    }
                  }),
              Importance.LOW,
              LR_TOTAL_STEPS_DOC)
          .define(
              SGD_MOMENTUM_CONFIG,
              Type.DOUBLE,
              decimal(DEFAULT_SGD_MOMENTUM),
              within(0, true, 1, false),
              Importance.MEDIUM,
              SGD_MOMENTUM_DOC)
          .define(
              WEIGHT_DECAY_CONFIG,
              Type.DOUBLE,
              decimal(DEFAULT_WEIGHT_DECAY),
              atLeast(0),
              Importance.MEDIUM,
              WEIGHT_DECAY_DOC)
          .define(SEED_CONFIG, Type.LONG, 0L, Importance.MEDIUM, SEED_DOC)
          .define(
              SHUFFLE_BN_GROUPS_CONFIG,
              Type.INT,
              DEFAULT_SHUFFLE_BN_GROUPS,
              Range.atLeast(1),
              Importance.MEDIUM,
              SHUFFLE_BN_GROUPS_DOC)
          .define(
              SAME_SOURCE_WINDOW_MS_CONFIG,
              Type.LONG,
              0L,
              Range.atLeast(0),
              Importance.LOW,
              SAME_SOURCE_WINDOW_MS_DOC)
          .define(
              GRAD_CLIP_NORM_CONFIG,
              Type.DOUBLE,
              0.0,
              atLeast(0),
              Importance.LOW,
              GRAD_CLIP_NORM_DOC)
          .define(
              LR_SCALING_CONFIG,
              Type.STRING,
              "linear",
              ConfigDef.CaseInsensitiveValidString.in("linear", "none"),
              Importance.MEDIUM,
              LR_SCALING_DOC)
          .define(
              QUEUE_INIT_CONFIG,
              Type.STRING,
              "random",
              ConfigDef.CaseInsensitiveValidString.in("random", "empty"),
              Importance.LOW,
              QUEUE_INIT_DOC);

  public MocoConfig {
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(learningRate, "learningRate");
    Objects.requireNonNull(lrScaling, "lrScaling");
    Objects.requireNonNull(queueInit, "queueInit");
    // the same validators as the properties, so that a builder and a properties file accept the
    // same values
    ensureValid(QUEUE_SIZE_CONFIG, queueSize);
    ensureValid(KEY_MOMENTUM_CONFIG, (double) keyMomentum);
    ensureValid(TEMPERATURE_CONFIG, (double) temperature);
    ensureValid(SGD_MOMENTUM_CONFIG, (double) sgdMomentum);
    ensureValid(WEIGHT_DECAY_CONFIG, (double) weightDecay);
    ensureValid(SHUFFLE_BN_GROUPS_CONFIG, shuffleBnGroups);
    ensureValid(GRAD_CLIP_NORM_CONFIG, (double) gradClipNorm);
    ensureValid(SAME_SOURCE_WINDOW_MS_CONFIG, sameSourceWindowMs);
  }

  public static Builder builder(Architecture architecture) {
    return new Builder(architecture);
  }

  public Builder toBuilder() {
    return new Builder(architecture)
        .queueSize(queueSize)
        .keyMomentum(keyMomentum)
        .temperature(temperature)
        .symmetric(symmetric)
        .learningRate(learningRate)
        .sgdMomentum(sgdMomentum)
        .weightDecay(weightDecay)
        .seed(seed)
        .shuffleBnGroups(shuffleBnGroups)
        .sameSourceWindowMs(sameSourceWindowMs)
        .gradClipNorm(gradClipNorm)
        .lrScaling(lrScaling)
        .queueInit(queueInit);
  }

  /** A copy of the definitions of every moco.* key (for help texts and tables). */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /**
   * {@code props} with the settings of the preset it names ({@value #PRESET_CONFIG}, default none)
   * laid under it: the values a configuration with these properties computes with.
   */
  public static Map<String, String> withPreset(Map<String, String> props) {
    String name = props.get(PRESET_CONFIG);
    Map<String, String> all =
        new java.util.HashMap<>(name == null ? Map.of() : Preset.of(name).settings());
    all.putAll(props);
    return all;
  }

  /**
   * Reads a configuration from string properties: the preset's settings under the ones given, the
   * definitions' defaults under both. Keys starting with {@code moco.} that are not defined are
   * refused, as are malformed or out-of-range values, with the key and value named.
   */
  public static MocoConfig fromProperties(Map<String, String> props) {
    for (String key : props.keySet()) {
      if (key.startsWith("moco.") && !CONFIG.names().contains(key)) {
        throw new IllegalArgumentException(
            "unknown configuration key '"
                + key
                + "'; known: "
                + new java.util.TreeSet<>(CONFIG.names()));
      }
    }
    Map<String, String> all = withPreset(props);
    Map<String, Object> parsed;
    try {
      Map<String, String> moco = new java.util.HashMap<>(all);
      moco.keySet().retainAll(CONFIG.names());
      parsed = CONFIG.parse(moco);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    Values v = new Values(all, parsed);
    Builder b = builder(Architecture.parse((String) parsed.get(ARCHITECTURE_CONFIG)));
    b.queueSize((Integer) parsed.get(QUEUE_SIZE_CONFIG));
    b.keyMomentum(v.floatValue(KEY_MOMENTUM_CONFIG));
    b.temperature(v.floatValue(TEMPERATURE_CONFIG));
    b.symmetric((Boolean) parsed.get(SYMMETRIC_CONFIG));
    b.sgdMomentum(v.floatValue(SGD_MOMENTUM_CONFIG));
    b.weightDecay(v.floatValue(WEIGHT_DECAY_CONFIG));
    b.seed((Long) parsed.get(SEED_CONFIG));
    b.shuffleBnGroups((Integer) parsed.get(SHUFFLE_BN_GROUPS_CONFIG));
    b.sameSourceWindowMs((Long) parsed.get(SAME_SOURCE_WINDOW_MS_CONFIG));
    b.gradClipNorm(v.floatValue(GRAD_CLIP_NORM_CONFIG));
    b.lrScaling(
        LrScaling.valueOf(
            ((String) parsed.get(LR_SCALING_CONFIG)).trim().toUpperCase(Locale.ROOT)));
    b.queueInit(
        QueueInit.valueOf(
            ((String) parsed.get(QUEUE_INIT_CONFIG)).trim().toUpperCase(Locale.ROOT)));
    float lr = v.floatValue(LR_CONFIG);
    long warmup = (Long) parsed.get(LR_WARMUP_STEPS_CONFIG);
    String schedule = ((String) parsed.get(LR_SCHEDULE_CONFIG)).trim().toLowerCase(Locale.ROOT);
    b.learningRate(
        switch (schedule) {
          case "cyclic" ->
              LearningRate.warmupCyclic(
                  lr,
                  warmup,
                  (Long) parsed.get(LR_CYCLE_STEPS_CONFIG),
                  v.floatValue(LR_MIN_CONFIG));
          case "cosine" -> {
            Long total = (Long) parsed.get(LR_TOTAL_STEPS_CONFIG);
            if (total == null) {
              throw new IllegalArgumentException(
                  LR_SCHEDULE_CONFIG + "=cosine needs " + LR_TOTAL_STEPS_CONFIG);
            }
            yield LearningRate.cosine(lr, warmup, total);
          }
          default -> LearningRate.warmupConstant(lr, warmup);
        });
    return b.build();
  }

  /**
   * Float values read from the text as given (Float.parseFloat), not via the parsed double: a
   * double rounded to a float can differ from the float nearest the text by one ulp, and replay
   * needs the same bits as before.
   */
  private record Values(Map<String, String> raw, Map<String, Object> parsed) {
    float floatValue(String key) {
      String text = raw.get(key);
      return text != null
          ? Float.parseFloat(text.trim())
          : Float.parseFloat(parsed.get(key).toString());
    }
  }

  private static void ensureValid(String key, Object value) {
    try {
      CONFIG.configKeys().get(key).validator.ensureValid(key, value);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** A finite number at least {@code min}. */
  private static ConfigDef.Validator atLeast(double min) {
    return within(min, true, Double.MAX_VALUE, true);
  }

  /**
   * A finite number between {@code min} and {@code max}, each bound in or out; NaN never passes.
   */
  private static ConfigDef.Validator within(double min, boolean minIn, double max, boolean maxIn) {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        double v = value == null ? Double.NaN : ((Number) value).doubleValue();
        if (!Double.isFinite(v) || (minIn ? v < min : v <= min) || (maxIn ? v > max : v >= max)) {
          throw new ConfigException(name, value, "must be a finite number in " + this);
        }
      }

      @Override
      public String toString() {
        return (minIn ? "[" : "(")
            + min
            + ", "
            + (max == Double.MAX_VALUE ? "..." : max)
            + (maxIn ? "]" : ")");
      }
    };
  }

  /**
   * A validator that describes itself as {@code text} in help tables ({@code train --help-config});
   * the trainer's own keys use it too.
   */
  public static ConfigDef.Validator validator(
      String text, java.util.function.BiConsumer<String, Object> check) {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        check.accept(name, value);
      }

      @Override
      public String toString() {
        return text;
      }
    };
  }

  /** The double a float constant's text stands for (0.999f -> 0.999, not 0.9990000128746033). */
  private static double decimal(float f) {
    return Double.parseDouble(Float.toString(f));
  }

  private static String[] presetNames() {
    return java.util.Arrays.stream(Preset.values()).map(Preset::key).toArray(String[]::new);
  }

  /** Mutable builder with MoCo v2 defaults. */
  public static final class Builder {
    private Architecture architecture;
    private int queueSize = DEFAULT_QUEUE_SIZE;
    private float keyMomentum = DEFAULT_KEY_MOMENTUM;
    private float temperature = DEFAULT_TEMPERATURE;
    private boolean symmetric;
    private LearningRate learningRate =
        LearningRate.warmupConstant(DEFAULT_LR, DEFAULT_WARMUP_STEPS);
    private float sgdMomentum = DEFAULT_SGD_MOMENTUM;
    private float weightDecay = DEFAULT_WEIGHT_DECAY;
    private long seed;
    private int shuffleBnGroups = DEFAULT_SHUFFLE_BN_GROUPS;
    private long sameSourceWindowMs;
    private float gradClipNorm;
    private LrScaling lrScaling = LrScaling.LINEAR;
    private QueueInit queueInit = QueueInit.RANDOM;

    private Builder(Architecture architecture) {
      this.architecture = Objects.requireNonNull(architecture, "architecture");
    }

    /** MoCo v1: linear head, T = 0.07. */
    public Builder v1() {
      architecture = architecture.withHead(Architecture.HEAD_LINEAR, architecture.embeddingDim());
      temperature = 0.07f;
      return this;
    }

    /**
     * Lays a preset's settings over this builder's (architecture and seed stay): {@code
     * builder(arch).preset(Preset.SMALL_DATA)} is what {@code moco.preset=small-data} gives.
     */
    public Builder preset(Preset preset) {
      Map<String, String> props = new java.util.HashMap<>(preset.settings());
      props.put(
          ARCHITECTURE_CONFIG,
          Architecture.RESNET18_CIFAR); // replaced below: only the values count
      MocoConfig c = fromProperties(props);
      queueSize = c.queueSize();
      keyMomentum = c.keyMomentum();
      temperature = c.temperature();
      symmetric = c.symmetric();
      learningRate = c.learningRate();
      sgdMomentum = c.sgdMomentum();
      weightDecay = c.weightDecay();
      shuffleBnGroups = c.shuffleBnGroups();
      sameSourceWindowMs = c.sameSourceWindowMs();
      gradClipNorm = c.gradClipNorm();
      lrScaling = c.lrScaling();
      queueInit = c.queueInit();
      return this;
    }

    public Builder lrScaling(LrScaling v) {
      lrScaling = Objects.requireNonNull(v, "lrScaling");
      return this;
    }

    public Builder queueInit(QueueInit v) {
      queueInit = Objects.requireNonNull(v, "queueInit");
      return this;
    }

    public Builder architecture(Architecture v) {
      architecture = Objects.requireNonNull(v, "architecture");
      return this;
    }

    public Builder queueSize(int v) {
      queueSize = v;
      return this;
    }

    public Builder keyMomentum(float v) {
      keyMomentum = v;
      return this;
    }

    public Builder temperature(float v) {
      temperature = v;
      return this;
    }

    public Builder symmetric(boolean v) {
      symmetric = v;
      return this;
    }

    public Builder learningRate(LearningRate v) {
      learningRate = v;
      return this;
    }

    public Builder sgdMomentum(float v) {
      sgdMomentum = v;
      return this;
    }

    public Builder weightDecay(float v) {
      weightDecay = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder shuffleBnGroups(int v) {
      shuffleBnGroups = v;
      return this;
    }

    public Builder gradClipNorm(float v) {
      gradClipNorm = v;
      return this;
    }

    public Builder sameSourceWindowMs(long v) {
      sameSourceWindowMs = v;
      return this;
    }

    public MocoConfig build() {
      return new MocoConfig(
          architecture,
          queueSize,
          keyMomentum,
          temperature,
          symmetric,
          learningRate,
          sgdMomentum,
          weightDecay,
          seed,
          shuffleBnGroups,
          sameSourceWindowMs,
          gradClipNorm,
          lrScaling,
          queueInit);
    }
  }
}
