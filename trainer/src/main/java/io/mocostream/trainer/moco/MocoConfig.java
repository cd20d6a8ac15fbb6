package io.mocostream.trainer.moco;

import io.mocostream.vision.model.Architecture;
import io.mocostream.trainer.optim.LearningRate;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Everything that decides what a {@link MocoEngine} computes. Defaults are MoCo v2's ({@code main_moco.py}
 * with {@code --mlp --moco-t 0.2 --aug-plus}) except the learning-rate schedule, which is warm-up + constant for
 * streams (see {@link LearningRate}). {@link Builder#smallData()} applies the settings of the authors' CIFAR-10
 * demo.
 *
 * <p>As a map of strings (CLI, properties files) the keys are the {@code *_CONFIG} constants below; see
 * {@link #fromProperties}.
 *
 * @param architecture       encoder to build (backbone, head, embedding dimension, input geometry)
 * @param queueSize          K, negatives in the queue (65536)
 * @param keyMomentum        m in f_k ← m·f_k + (1−m)·f_q (0.999; 0.99 for small data)
 * @param temperature        T of the InfoNCE logits (0.2 for v2, 0.07 for v1)
 * @param symmetric          both views serve as query and as key and the two losses are summed, as the CIFAR demo
 *                           does; both key batches are enqueued (helps on small data)
 * @param learningRate       schedule over optimizer steps
 * @param sgdMomentum        μ of SGD (0.9)
 * @param weightDecay        L2 weight decay (1e-4; 5e-4 for small images)
 * @param seed               decides the initial weights and every shuffle permutation
 * @param shuffleBnGroups    G: the shuffled key batch is split into G groups, each normalised by BatchNorm on its
 *                           own (the single-device form of MoCo's shuffle BN); 1 turns the shuffle's effect off
 * @param sameSourceWindowMs if &gt; 0, queue keys from the query's own source captured within this many
 *                           milliseconds of the query frame are masked out of the negatives; 0 = off
 * @param gradClipNorm       if &gt; 0, gradients are scaled down so that their global L2 norm is at most this
 *                           (not in MoCo); 0 = off, as in the reference. The non-finite gradients it once hid came
 *                           from a temperature scalar freed before the backward pass (see {@link InfoNce})
 * @param lrScaling          {@code LINEAR} (default): the step's rate is the schedule's rate × N / 256 for a
 *                           micro-batch of N images, the linear scaling rule the reference's rates follow (0.03 at 256
 *                           on ImageNet, 0.06 at 512 in the CIFAR demo); a small micro-batch thus moves the weights
 *                           proportionally less. {@code NONE}: the schedule's rate as is
 * @param queueInit          {@code RANDOM} (default, the reference): the queue starts full of random unit keys, so
 *                           step 0 already has K negatives; {@code EMPTY}: it starts empty and only real keys are
 *                           ever negatives
 */
public record MocoConfig(Architecture architecture, int queueSize, float keyMomentum, float temperature,
                         boolean symmetric, LearningRate learningRate, float sgdMomentum, float weightDecay, long seed,
                         int shuffleBnGroups, long sameSourceWindowMs, float gradClipNorm, LrScaling lrScaling,
                         QueueInit queueInit) {

    /** How the learning rate follows the micro-batch size. */
    public enum LrScaling { LINEAR, NONE }

    /** How the queue starts. */
    public enum QueueInit { RANDOM, EMPTY }

    /** The batch size the base learning rate is stated for under {@link LrScaling#LINEAR}. */
    public static final int LR_REFERENCE_BATCH = 256;

    public static final String ARCHITECTURE_CONFIG = "moco.architecture";
    public static final String QUEUE_SIZE_CONFIG = "moco.queue.size";
    public static final String KEY_MOMENTUM_CONFIG = "moco.key.momentum";
    public static final String TEMPERATURE_CONFIG = "moco.temperature";
    public static final String SYMMETRIC_CONFIG = "moco.symmetric";
    /** Base learning rate: for a batch of 256 under linear scaling (the default), else the rate itself. */
    public static final String LR_CONFIG = "moco.lr";
    /** {@code constant} (warm-up then constant, the stream default), {@code cyclic} or {@code cosine}. */
    public static final String LR_SCHEDULE_CONFIG = "moco.lr.schedule";
    public static final String LR_WARMUP_STEPS_CONFIG = "moco.lr.warmup.steps";
    /** Cycle length of the {@code cyclic} schedule. */
    public static final String LR_CYCLE_STEPS_CONFIG = "moco.lr.cycle.steps";
    /** Lowest rate of the {@code cyclic} schedule. */
    public static final String LR_MIN_CONFIG = "moco.lr.min";
    /** Run length of the {@code cosine} schedule. */
    public static final String LR_TOTAL_STEPS_CONFIG = "moco.lr.total.steps";
    public static final String SGD_MOMENTUM_CONFIG = "moco.sgd.momentum";
    public static final String WEIGHT_DECAY_CONFIG = "moco.weight.decay";
    public static final String SEED_CONFIG = "moco.seed";
    public static final String SHUFFLE_BN_GROUPS_CONFIG = "moco.shuffle.bn.groups";
    public static final String SAME_SOURCE_WINDOW_MS_CONFIG = "moco.same.source.window.ms";
    /** Global gradient-norm clip, 0 = off (the reference's behaviour). */
    public static final String GRAD_CLIP_NORM_CONFIG = "moco.grad.clip.norm";
    /** {@code linear} (rate × N/256, the default) or {@code none}. */
    public static final String LR_SCALING_CONFIG = "moco.lr.scaling";
    /** {@code random} (unit keys, the reference's start, the default) or {@code empty}. */
    public static final String QUEUE_INIT_CONFIG = "moco.queue.init";

    public static final int DEFAULT_QUEUE_SIZE = 65536;
    public static final float DEFAULT_KEY_MOMENTUM = 0.999f;
    public static final float DEFAULT_TEMPERATURE = 0.2f;
    public static final float DEFAULT_LR = 0.03f;
    public static final long DEFAULT_WARMUP_STEPS = 500;
    public static final float DEFAULT_SGD_MOMENTUM = 0.9f;
    public static final float DEFAULT_WEIGHT_DECAY = 1e-4f;
    /**
     * 2: at batch 64 each group normalises 32 keys, as each of the reference's 8 GPUs did with 256 / 8 = 32 images
     * (the CIFAR demo's split BN used 512 / 8 = 64). Eight groups of 8 made BatchNorm statistics noisier than the
     * reference's and cost 15 % more key-forward time on CPU (small convolutions run less efficiently).
     */
    public static final int DEFAULT_SHUFFLE_BN_GROUPS = 2;

    public MocoConfig {
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(learningRate, "learningRate");
        Objects.requireNonNull(lrScaling, "lrScaling");
        Objects.requireNonNull(queueInit, "queueInit");
        if (queueSize < 1) {
            throw new IllegalArgumentException(QUEUE_SIZE_CONFIG + " " + queueSize + " must be >= 1");
        }
        if (!(keyMomentum >= 0 && keyMomentum <= 1)) {
            throw new IllegalArgumentException(KEY_MOMENTUM_CONFIG + " " + keyMomentum + " must be in [0, 1]");
        }
        if (!(temperature > 0) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException(TEMPERATURE_CONFIG + " " + temperature + " must be finite and > 0");
        }
        if (!(sgdMomentum >= 0 && sgdMomentum < 1)) {
            throw new IllegalArgumentException(SGD_MOMENTUM_CONFIG + " " + sgdMomentum + " must be in [0, 1)");
        }
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
            throw new IllegalArgumentException(WEIGHT_DECAY_CONFIG + " " + weightDecay + " must be finite and >= 0");
        }
        if (shuffleBnGroups < 1) {
            throw new IllegalArgumentException(SHUFFLE_BN_GROUPS_CONFIG + " " + shuffleBnGroups + " must be >= 1");
        }
        if (!(gradClipNorm >= 0) || !Float.isFinite(gradClipNorm)) {
            throw new IllegalArgumentException(GRAD_CLIP_NORM_CONFIG + " " + gradClipNorm + " must be finite and >= 0"
                    + " (0 = off)");
        }
        if (sameSourceWindowMs < 0) {
            throw new IllegalArgumentException(SAME_SOURCE_WINDOW_MS_CONFIG + " " + sameSourceWindowMs
                    + " must be >= 0 (0 = off)");
        }
    }

    public static Builder builder(Architecture architecture) {
        return new Builder(architecture);
    }

    public Builder toBuilder() {
        return new Builder(architecture).queueSize(queueSize).keyMomentum(keyMomentum).temperature(temperature)
                .symmetric(symmetric).learningRate(learningRate).sgdMomentum(sgdMomentum).weightDecay(weightDecay)
                .seed(seed).shuffleBnGroups(shuffleBnGroups).sameSourceWindowMs(sameSourceWindowMs)
                .gradClipNorm(gradClipNorm).lrScaling(lrScaling).queueInit(queueInit);
    }

    /**
     * Reads a configuration from string properties; absent keys keep the defaults. Keys starting with
     * {@code moco.} that are not listed here are refused, as are malformed values, with the key and value named.
     */
    public static MocoConfig fromProperties(Map<String, String> props) {
        for (String key : props.keySet()) {
            if (key.startsWith("moco.") && !KNOWN_KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown configuration key '" + key + "'; known: " + KNOWN_KEYS);
            }
        }
        Architecture arch = Architecture.parse(props.getOrDefault(ARCHITECTURE_CONFIG, Architecture.RESNET18_CIFAR));
        Builder b = builder(arch);
        b.queueSize(intValue(props, QUEUE_SIZE_CONFIG, DEFAULT_QUEUE_SIZE));
        b.keyMomentum(floatValue(props, KEY_MOMENTUM_CONFIG, DEFAULT_KEY_MOMENTUM));
        b.temperature(floatValue(props, TEMPERATURE_CONFIG, DEFAULT_TEMPERATURE));
        b.symmetric(boolValue(props, SYMMETRIC_CONFIG, false));
        b.sgdMomentum(floatValue(props, SGD_MOMENTUM_CONFIG, DEFAULT_SGD_MOMENTUM));
        b.weightDecay(floatValue(props, WEIGHT_DECAY_CONFIG, DEFAULT_WEIGHT_DECAY));
        b.seed(longValue(props, SEED_CONFIG, 0));
        b.shuffleBnGroups(intValue(props, SHUFFLE_BN_GROUPS_CONFIG, DEFAULT_SHUFFLE_BN_GROUPS));
        b.sameSourceWindowMs(longValue(props, SAME_SOURCE_WINDOW_MS_CONFIG, 0));
        b.gradClipNorm(floatValue(props, GRAD_CLIP_NORM_CONFIG, 0f));
        b.lrScaling(enumValue(props, LR_SCALING_CONFIG, LrScaling.LINEAR));
        b.queueInit(enumValue(props, QUEUE_INIT_CONFIG, QueueInit.RANDOM));
        float lr = floatValue(props, LR_CONFIG, DEFAULT_LR);
        long warmup = longValue(props, LR_WARMUP_STEPS_CONFIG, DEFAULT_WARMUP_STEPS);
        String schedule = props.getOrDefault(LR_SCHEDULE_CONFIG, "constant").trim().toLowerCase(Locale.ROOT);
        b.learningRate(switch (schedule) {
            case "constant" -> LearningRate.warmupConstant(lr, warmup);
            case "cyclic" -> LearningRate.warmupCyclic(lr, warmup, longValue(props, LR_CYCLE_STEPS_CONFIG, 10_000),
                    floatValue(props, LR_MIN_CONFIG, 0f));
            case "cosine" -> {
                if (!props.containsKey(LR_TOTAL_STEPS_CONFIG)) {
                    throw new IllegalArgumentException(LR_SCHEDULE_CONFIG + "=cosine needs " + LR_TOTAL_STEPS_CONFIG);
                }
                yield LearningRate.cosine(lr, warmup, longValue(props, LR_TOTAL_STEPS_CONFIG, 0));
            }
            default -> throw new IllegalArgumentException(LR_SCHEDULE_CONFIG + "='" + schedule
                    + "' is unknown; expected constant, cyclic or cosine");
        });
        return b.build();
    }

    private static final java.util.Set<String> KNOWN_KEYS = java.util.Set.of(ARCHITECTURE_CONFIG, QUEUE_SIZE_CONFIG,
            KEY_MOMENTUM_CONFIG, TEMPERATURE_CONFIG, SYMMETRIC_CONFIG, LR_CONFIG, LR_SCHEDULE_CONFIG,
            LR_WARMUP_STEPS_CONFIG, LR_CYCLE_STEPS_CONFIG, LR_MIN_CONFIG, LR_TOTAL_STEPS_CONFIG, SGD_MOMENTUM_CONFIG,
            WEIGHT_DECAY_CONFIG, SEED_CONFIG, SHUFFLE_BN_GROUPS_CONFIG, SAME_SOURCE_WINDOW_MS_CONFIG, GRAD_CLIP_NORM_CONFIG,
            LR_SCALING_CONFIG, QUEUE_INIT_CONFIG);

    private static <E extends Enum<E>> E enumValue(Map<String, String> props, String key, E dflt) {
        String v = value(props, key);
        if (v == null) {
            return dflt;
        }
        for (E e : dflt.getDeclaringClass().getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) {
                return e;
            }
        }
        throw new IllegalArgumentException(key + "='" + v + "' is not one of "
                + java.util.Arrays.toString(dflt.getDeclaringClass().getEnumConstants()).toLowerCase(Locale.ROOT));
    }

    private static String value(Map<String, String> props, String key) {
        String v = props.get(key);
        return v == null ? null : v.trim();
    }

    private static int intValue(Map<String, String> props, String key, int dflt) {
        String v = value(props, key);
        try {
            return v == null ? dflt : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "='" + v + "' is not an integer", e);
        }
    }

    private static long longValue(Map<String, String> props, String key, long dflt) {
        String v = value(props, key);
        try {
            return v == null ? dflt : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "='" + v + "' is not an integer", e);
        }
    }

    private static float floatValue(Map<String, String> props, String key, float dflt) {
        String v = value(props, key);
        try {
            return v == null ? dflt : Float.parseFloat(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "='" + v + "' is not a number", e);
        }
    }

    private static boolean boolValue(Map<String, String> props, String key, boolean dflt) {
        String v = value(props, key);
        if (v == null) {
            return dflt;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new IllegalArgumentException(key + "='" + v + "' is not true or false");
    }

    /** Mutable builder with MoCo v2 defaults. */
    public static final class Builder {
        private Architecture architecture;
        private int queueSize = DEFAULT_QUEUE_SIZE;
        private float keyMomentum = DEFAULT_KEY_MOMENTUM;
        private float temperature = DEFAULT_TEMPERATURE;
        private boolean symmetric;
        private LearningRate learningRate = LearningRate.warmupConstant(DEFAULT_LR, DEFAULT_WARMUP_STEPS);
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
         * The authors' CIFAR-10 demo: K = 4096, m = 0.99, T = 0.1, weight decay 5e-4, lr 0.06 at batch 512 (base 0.03
         * per 256 under linear scaling), 8 BatchNorm groups.
         */
        public Builder smallData() {
            queueSize = 4096;
            keyMomentum = 0.99f;
            temperature = 0.1f;
            weightDecay = 5e-4f;
            learningRate = LearningRate.warmupConstant(0.03f, DEFAULT_WARMUP_STEPS);
            lrScaling = LrScaling.LINEAR;
            shuffleBnGroups = 8;
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
            return new MocoConfig(architecture, queueSize, keyMomentum, temperature, symmetric, learningRate,
                    sgdMomentum, weightDecay, seed, shuffleBnGroups, sameSourceWindowMs,
                    gradClipNorm, lrScaling, queueInit);
        }
    }
}
