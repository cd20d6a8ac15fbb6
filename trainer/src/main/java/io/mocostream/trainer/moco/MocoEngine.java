package io.mocostream.trainer.moco;

import static io.mocostream.vision.model.Encoders.BN_MOMENTUM;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.mocostream.trainer.moco.PhaseClock.Phase;
import io.mocostream.trainer.optim.Sgd;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import io.mocostream.vision.model.Encoders;
import io.mocostream.vision.model.GradMode;
import io.mocostream.vision.model.InputBuffer;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MoCo v2 (He et al., 2020; Chen et al., 2020) on DJL's PyTorch engine: the counterpart of {@code
 * facebookresearch/moco}'s {@code moco/builder.py} plus its training step.
 *
 * <ul>
 *   <li>f_q: backbone + projection head, trained by SGD; f_k: same shape, a copy at the start,
 *       never given gradients, and after every step f_k ← m·f_k + (1−m)·f_q. (The reference applies
 *       the same update at the start of the next step; the sequence of key encoders is identical.)
 *   <li>Negatives: {@link KeyQueue}, K keys with their stream positions, any micro-batch size.
 *   <li>Loss: {@link InfoNce} with temperature T against [k⁺, filled queue]; optionally symmetric.
 *   <li>Shuffle BN on one device: the key batch is permuted (seeded), f_k runs on G groups
 *       separately in training mode, and the keys are put back in order. See {@link #encodeKeys}.
 * </ul>
 *
 * <p>Memory: parameters, optimizer buffers and the queue live in one long-lived manager; every
 * array a step creates lives in that step's sub-manager, closed when the step ends.
 *
 * <p>Determinism: the initial weights come from {@code seed} (see {@link Encoders#initialize}) and
 * the shuffle permutation of step s from (seed, s); with the same inputs and the same intra-op
 * thread count on the CPU, two engines hold bit-identical parameters after any number of steps. The
 * RNG state is therefore (seed, step).
 *
 * <p>Devices: one {@link Device} per engine. With several devices the reference shuffles the key
 * batch across them; here each BatchNorm group plays the part of one device's share (the
 * permutation is global over the batch and each group is normalised on its own), so a multi-device
 * engine would run group g on device g with a replica of f_k — not implemented: a single device is
 * what this engine drives.
 *
 * <p>Methods are synchronized: one step at a time. Not for use from several threads at once.
 */
public final class MocoEngine implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MocoEngine.class);

  private final MocoConfig config;
  private final Architecture arch;
  private final NDManager manager; // long-lived: parameters, optimizer buffers, queue
  private final ParameterStore parameters;
  private final SequentialBlock queryBackbone; // f_q = queryHead ∘ queryBackbone
  private final SequentialBlock queryHead;
  private final SequentialBlock queryEncoder; // normalize ∘ queryHead ∘ queryBackbone, for embed()
  private final SequentialBlock keyBackbone; // f_k = keyHead ∘ keyBackbone
  private final SequentialBlock keyHead;
  private final List<NDArray> queryWeights; // trainable arrays of f_q ...
  private final List<NDArray> keyWeights; // ... and the f_k arrays they are averaged into, aligned
  private final List<NDArray>
      batchNormStatistics; // running mean/var of f_q and f_k (not trained, but updated)
  private final List<NDArray>
      statisticsBackup; // their values before the step, restored if it is skipped
  private final List<NDArray> queryStatistics; // f_q's running mean/var ...
  private final List<NDArray> keyStatistics; // ... and f_k's, for split BatchNorm's averaging
  private final List<NDArray> groupStart; // per f_q statistic: its value before a split forward
  private final List<NDArray> groupSum; // per f_q statistic: sum over groups of the updated values
  private final List<NDArray> keyGroupStart; // the same for f_k: a key forward runs between a query
  private final List<NDArray>
      keyGroupSum; // forward and its backward, before f_q's statistics settle
  private final List<NDArray> queryStart; // f_q's statistics before a split query forward
  private int pendingQueryGroups; // > 1: f_q's statistics await settleQueryStatistics
  private final Sgd sgd;
  private final KeyQueue queue;
  private final InputBuffer queryInput = new InputBuffer();
  private final InputBuffer keyInput = new InputBuffer();
  private final InputBuffer maskInput = new InputBuffer();
  private final InputBuffer inferenceInput = new InputBuffer();
  private long seed;
  private long step;
  private long skippedSteps;
  private PhaseClock clock = new PhaseClock(); // the current step's phase times
  private double lastGradNorm; // the current step's global gradient norm

  /** An engine on the CPU. */
  public MocoEngine(MocoConfig config) {
    this(config, Device.cpu());
  }

  public MocoEngine(MocoConfig config, Device device) {
    this.config = Objects.requireNonNull(config, "config");
    this.arch = config.architecture();
    this.seed = config.seed();
    Engine.getInstance()
        .setRandomSeed((int) (seed ^ (seed >>> 32))); // PyTorch's manual seed, for anything else
    GradMode.disableOnThisThread();
    manager = NDManager.newBaseManager(device);
    parameters = new ParameterStore(manager, false);

    queryBackbone = Encoders.backbone(arch);
    queryHead = Encoders.head(arch);
    Encoders.initialize(queryBackbone, queryHead, arch, manager, seed);
    queryEncoder =
        new SequentialBlock()
            .add(queryBackbone)
            .add(queryHead)
            .addSingleton(x -> x.normalize(2, 1));
    keyBackbone = Encoders.backbone(arch);
    keyHead = Encoders.head(arch);
    keyBackbone.initialize(
        manager, ai.djl.ndarray.types.DataType.FLOAT32, Encoders.inputShape(arch, 1));
    keyHead.initialize(
        manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, arch.featureDim()));

    List<NDArray> qAll = arrays(queryBackbone, queryHead);
    List<NDArray> kAll = arrays(keyBackbone, keyHead);
    for (int i = 0; i < qAll.size(); i++) {
      kAll.get(i).set(new NDIndex("..."), qAll.get(i)); // f_k starts as a copy of f_q
    }
    keyBackbone.freezeParameters(true); // f_k never receives gradients
    keyHead.freezeParameters(true);

    queryWeights = trainable(queryBackbone, queryHead, true);
    keyWeights = trainable(keyBackbone, keyHead, true);
    queryStatistics = trainable(queryBackbone, queryHead, false);
    keyStatistics = trainable(keyBackbone, keyHead, false);
    batchNormStatistics = new ArrayList<>(queryStatistics);
    batchNormStatistics.addAll(keyStatistics);
    statisticsBackup = zerosLike(batchNormStatistics);
    groupStart = zerosLike(queryStatistics); // f_q and f_k statistics have the same shapes
    groupSum = zerosLike(queryStatistics);
    keyGroupStart = zerosLike(keyStatistics);
    keyGroupSum = zerosLike(keyStatistics);
    queryStart = zerosLike(queryStatistics);
    sgd = new Sgd(manager, queryWeights, config.sgdMomentum(), config.weightDecay());
    queue = new KeyQueue(manager, arch.embeddingDim(), config.queueSize());
    if (config.queueInit() == MocoConfig.QueueInit.RANDOM) {
      prefillQueue();
    }
    if (!device.isGpu() && arch.width() % 16 != 0) {
      LOG.warn(
          "{}: width {} gives convolutions whose channel count is not a multiple of 16; oneDNN in libtorch "
              + "2.7.1 computes wrong (sometimes NaN) input gradients for those on AVX-512 CPUs (multiples of 8 "
              + "on AVX2): train with a width that is a multiple of 16",
          arch,
          arch.width());
    }
    LOG.info(
        "MoCo engine: {} ({} trainable parameters in the query encoder), K={} ({} start), m={}, T={}, "
            + "symmetric={}, BN groups={}, lr scaling={}, device={}, seed={}",
        arch,
        Encoders.trainableParameters(queryBackbone) + Encoders.trainableParameters(queryHead),
        config.queueSize(),
        config.queueInit(),
        config.keyMomentum(),
        config.temperature(),
        config.symmetric(),
        config.shuffleBnGroups(),
        config.lrScaling(),
        device,
        seed);
  }

  /**
   * One MoCo step on {@code n} image pairs, in the shape of the reference's {@code forward} (the
   * CIFAR demo's {@code ModelMoCo.forward}, builder.py's for one direction) plus its training loop:
   * im1 is the query view and im2 the key view, N×C×S×S floats each, row-major, already normalised.
   * {@code entries} (one per image, or null for anonymous images) become the metadata of the keys
   * enqueued. A step whose loss or gradient is not finite changes nothing but the step counter and
   * {@link #skippedSteps()}.
   *
   * <p>The one ordering difference: the reference moves f_k towards f_q at the start of each
   * forward, this engine at the end of each step; the sequence of key encoders that compute keys is
   * the same, and a checkpoint holds the f_k the next step uses.
   */
  public synchronized StepResult step(
      float[] queryViews, float[] keyViews, int n, List<QueueEntry> entries) {
    checkBatch(queryViews, keyViews, n, entries);
    List<QueueEntry> meta = entries != null ? entries : anonymous(n);
    long stepIndex = step++;
    float lr = learningRate(stepIndex, n);
    clock = new PhaseClock();
    GradMode.disableOnThisThread();
    snapshotBatchNormStatistics();
    try (NDManager scope = manager.newSubManager()) {
      NDArray im1 = views(queryInput, scope, queryViews, n); // im1: N×C×S×S
      NDArray im2 = views(keyInput, scope, keyViews, n); // im2: N×C×S×S
      NDArray queueKeys = queue.negatives(scope); // queue: D×K (filled part)
      NDArray mask = sameSourceMask(scope, meta); // mask: N×K or null
      int negatives = queueKeys == null ? 0 : Math.toIntExact(queueKeys.getShape().get(1));

      // loss = loss_12 (+ loss_21, summed as the demo): q, k, logits, loss and backward of each
      // direction in turn
      Direction d12 = contrastiveLoss(0, im1, im2, stepIndex, queueKeys, mask);
      Direction d21 =
          config.symmetric() ? contrastiveLoss(1, im2, im1, stepIndex, queueKeys, mask) : null;
      float loss = d21 == null ? d12.loss() : d12.loss() + d21.loss();

      String notFinite = notFinite(loss, scope);
      if (notFinite != null) {
        return skip(stepIndex, loss, notFinite, lr, n, negatives);
      }
      updateQueryEncoder(lr, scope); // SGD (after an optional clip)
      momentumUpdateKeyEncoder(); // f_k ← m·f_k + (1−m)·f_q
      if (d21 == null) {
        dequeueAndEnqueue(d12.keys(), meta, stepIndex); // k = k2: N×D
      } else { // k = cat([k1, k2]): 2N×D
        dequeueAndEnqueue(d21.keys().concat(d12.keys(), 0), twice(meta), stepIndex);
      }
      return new StepResult(stepIndex, loss, true, lr, n, negatives, clock.timings());
    }
  }

  /** Test hook: sees keys, queries and gradients of every step. */
  StepObserver observer = StepObserver.NONE;

  /** One direction's loss and the keys it computed (to be enqueued). */
  private record Direction(float loss, NDArray keys) {}

  /**
   * The demo's {@code contrastive_loss(im_q, im_k)} with its backward pass: q =
   * normalize(f_q(im_q)) with autograd; k = unshuffle(normalize(f_k(shuffle(im_k)))) without;
   * logits = [q·k, q·queue] / T against label 0, InfoNCE (see {@link InfoNce}); then backward,
   * which adds to the gradients (autograd sums the two directions' gradients, as one backward of
   * the sum would), and f_q's split-BatchNorm statistics are settled (see {@link
   * #settleQueryStatistics}). {@code view} 0 is im1 → im2, 1 is im2 → im1.
   */
  private Direction contrastiveLoss(
      int view, NDArray imQ, NDArray imK, long stepIndex, NDArray queueKeys, NDArray mask) {
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      NDArray q =
          clock.time(
              Phase.QUERY_FORWARD_BACKWARD, () -> encodeQueries(imQ)); // q: N×D, with history
      observer.queries(view, q);
      NDArray k =
          clock.time(
              Phase.KEY_FORWARD, () -> encodeKeys(imK, stepIndex, view)); // k: N×D, no history
      observer.keys(view, k);
      float loss =
          clock.time(
              Phase.QUERY_FORWARD_BACKWARD,
              () -> {
                NDArray l = InfoNce.loss(q, k, queueKeys, mask, config.temperature()); // scalar
                float value = l.getFloat();
                if (Float.isFinite(value)) {
                  observer.beforeBackward();
                  collector.backward(l);
                  observer.gradients(queryWeights);
                }
                settleQueryStatistics();
                return value;
              });
      return new Direction(loss, k);
    }
  }

  /** The views as an N×C×S×S array in the step's scope (one reused input buffer per view). */
  private NDArray views(InputBuffer buffer, NDManager scope, float[] views, int n) {
    return clock.time(Phase.INPUT, () -> buffer.wrap(scope, views, Encoders.inputShape(arch, n)));
  }

  /**
   * Why this step must not update anything, or null: a finite loss can still overflow in the
   * backward pass, and an update would make the weights NaN. The gradients are zeroed when it must
   * not.
   */
  private String notFinite(float loss, NDManager scope) {
    if (!Float.isFinite(loss)) {
      sgd.zeroGradients(scope);
      return "loss " + loss + " is not finite";
    }
    double gradNorm = clock.time(Phase.OPTIMIZER, () -> sgd.gradientNorm(scope));
    if (!Double.isFinite(gradNorm)) {
      sgd.zeroGradients(scope);
      return "gradients are not finite (loss " + loss + ")";
    }
    lastGradNorm = gradNorm;
    return null;
  }

  /**
   * SGD on f_q in PyTorch's form, after the optional global-norm clip (off by default, as in the
   * reference).
   */
  private void updateQueryEncoder(float lr, NDManager scope) {
    clock.time(
        Phase.OPTIMIZER,
        () -> {
          if (config.gradClipNorm() > 0 && lastGradNorm > config.gradClipNorm()) {
            sgd.scaleGradients((float) (config.gradClipNorm() / lastGradNorm), scope);
          }
          sgd.step(lr, scope);
        });
  }

  /**
   * The rate of this step: the schedule's base rate, times N/256 under linear scaling (Goyal et
   * al., 2017).
   */
  private float learningRate(long stepIndex, int n) {
    float base = config.learningRate().at(stepIndex);
    return config.lrScaling() == MocoConfig.LrScaling.LINEAR
        ? base * n / MocoConfig.LR_REFERENCE_BATCH
        : base;
  }

  private StepResult skip(
      long stepIndex, float loss, String reason, float lr, int n, int negatives) {
    restoreBatchNormStatistics();
    skippedSteps++;
    LOG.warn(
        "step {}: {}; step skipped (no update, no enqueue), {} skipped so far",
        stepIndex,
        reason,
        skippedSteps);
    return new StepResult(stepIndex, loss, false, lr, n, negatives, clock.timings());
  }

  /**
   * q = normalize(f_q(x)) with split BatchNorm: G groups (row i in group i mod G, as the demo's
   * {@code SplitBatchNorm} reshapes N×C×H×W to (N/G)×(G·C)×H×W), each normalised on its own. With
   * autograd history.
   *
   * <p>Running statistics: the demo starts every group from the same values and averages the G
   * results. Writing f_q's statistics between groups would bump the version of arrays autograd
   * saved for the backward pass (PyTorch then refuses it), so the groups update them one after the
   * other, each group's increment c_g − (1−μ)·c_{g−1} = μ·m_g is summed, and {@link
   * #settleQueryStatistics} sets (1−μ)·c_0 + Σ/G, the demo's average, after the backward pass.
   */
  private NDArray encodeQueries(NDArray images) {
    int n = Math.toIntExact(images.getShape().get(0));
    int groups = groupSizes(n, config.shuffleBnGroups()).length;
    int[] order = groupOrder(identity(n), groups);
    IntConsumer afterGroup = null;
    if (groups > 1) {
      copy(queryStatistics, queryStart);
      copy(queryStatistics, groupStart);
      pendingQueryGroups = groups;
      afterGroup =
          g -> {
            float keep = BN_MOMENTUM; // DJL's 0.9 = 1 − μ
            for (int i = 0; i < queryStatistics.size(); i++) {
              NDArray previous = groupStart.get(i);
              previous.muli(-keep).addi(queryStatistics.get(i)); // μ·m_g = c_g − (1−μ)·c_{g−1}
              if (g == 0) {
                groupSum.get(i).set(new NDIndex("..."), previous);
              } else {
                groupSum.get(i).addi(previous);
              }
              previous.set(new NDIndex("..."), queryStatistics.get(i)); // c_g
            }
          };
    }
    return splitBatchNormForward(queryBackbone, queryHead, images, order, afterGroup)
        .normalize(2, 1);
  }

  /**
   * After the backward pass: f_q's statistics ← (1−μ)·c_0 + (Σ_g μ·m_g)/G, the demo's
   * split-BatchNorm average.
   */
  private void settleQueryStatistics() {
    if (pendingQueryGroups <= 1) {
      return;
    }
    float keep = BN_MOMENTUM; // 1 − μ
    for (int i = 0; i < queryStatistics.size(); i++) {
      NDArray start = queryStart.get(i).muli(keep);
      start.addi(groupSum.get(i).divi(pendingQueryGroups));
      queryStatistics.get(i).set(new NDIndex("..."), start);
    }
    pendingQueryGroups = 0;
  }

  /**
   * k = unshuffle(normalize(f_k(shuffle(x)))): the batch is permuted (seeded from (seed, step,
   * view)) and f_k runs with split BatchNorm over the shuffled batch, so a query and its key never
   * share BatchNorm statistics (the "cheating" MoCo's shuffle BN prevents); then the keys are put
   * back in order. No autograd here, so every group starts from the same running statistics and the
   * results are averaged, exactly as the demo does.
   */
  private NDArray encodeKeys(NDArray images, long stepIndex, int view) {
    int n = Math.toIntExact(images.getShape().get(0));
    int groups = groupSizes(n, config.shuffleBnGroups()).length;
    int[] order = groupOrder(shufflePermutation(seed, stepIndex, view, n), groups);
    IntConsumer afterGroup = null;
    if (groups > 1) {
      copy(keyStatistics, keyGroupStart);
      afterGroup =
          g -> {
            accumulate(keyStatistics, keyGroupSum, g == 0);
            if (g < groups - 1) {
              copy(keyGroupStart, keyStatistics); // the next group starts the same
            } else {
              for (int i = 0; i < keyStatistics.size(); i++) { // mean over groups
                keyStatistics.get(i).set(new NDIndex("..."), keyGroupSum.get(i).divi(groups));
              }
            }
          };
    }
    return splitBatchNormForward(keyBackbone, keyHead, images, order, afterGroup).normalize(2, 1);
  }

  /**
   * y = head(backbone(x)) in training mode, where the rows order[0..], taken in consecutive groups
   * of {@link #groupSizes} sizes, are normalised by BatchNorm group by group (one forward pass per
   * group: exactly split BatchNorm's outputs, with DJL's residual units unchanged); {@code
   * afterGroup} runs after group g's pass. y comes back in x's row order.
   */
  private NDArray splitBatchNormForward(
      SequentialBlock backbone,
      SequentialBlock head,
      NDArray images,
      int[] order,
      IntConsumer afterGroup) {
    int[] sizes = groupSizes(order.length, config.shuffleBnGroups());
    if (sizes.length == 1 && isIdentity(order)) {
      return forward(backbone, head, images); // N×D
    }
    NDManager scope = images.getManager();
    NDArray index = scope.create(toLongs(order)); // index: N (int64)
    NDList groups = images.get(index).split(boundaries(sizes), 0); // group g: n_g×C×S×S
    NDList outputs = new NDList(groups.size());
    for (int g = 0; g < groups.size(); g++) {
      outputs.add(forward(backbone, head, groups.get(g))); // n_g×D
      if (afterGroup != null) {
        afterGroup.accept(g);
      }
    }
    NDArray grouped =
        outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 0); // N×D, in order[]
    return batchUnshuffle(grouped, index); // N×D, in x's order
  }

  private NDArray forward(SequentialBlock backbone, SequentialBlock head, NDArray images) {
    NDArray features =
        backbone.forward(parameters, new NDList(images), true).singletonOrThrow(); // N×F
    return head.forward(parameters, new NDList(features), true).singletonOrThrow(); // N×D
  }

  private static void copy(List<NDArray> from, List<NDArray> to) {
    for (int i = 0; i < from.size(); i++) {
      to.get(i).set(new NDIndex("..."), from.get(i));
    }
  }

  private static void accumulate(List<NDArray> values, List<NDArray> sums, boolean first) {
    for (int i = 0; i < values.size(); i++) {
      if (first) {
        sums.get(i).set(new NDIndex("..."), values.get(i));
      } else {
        sums.get(i).addi(values.get(i));
      }
    }
  }

  /** x[order]: row i of the result is row order[i] of x. */
  static NDArray batchShuffle(NDArray x, NDArray order) {
    return x.get(order);
  }

  /** The inverse of {@link #batchShuffle}: row order[i] of the result is row i of y. */
  static NDArray batchUnshuffle(NDArray y, NDArray order) {
    return y.get(order.argSort());
  }

  /**
   * The permutation that shuffles the key batch of {@code view} at step {@code step}: Fisher–Yates
   * driven by a {@link SplittableRandom} seeded from (seed, step, view), so it is reproducible from
   * the stream position alone.
   */
  static int[] shufflePermutation(long seed, long step, int view, int n) {
    SplittableRandom random = new SplittableRandom(mix(mix(seed, step), view));
    int[] p = identity(n);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  private static long mix(long a, long b) {
    long z = a * 0x9E3779B97F4A7C15L + b; // SplitMix64 finaliser over the pair
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Sizes of G BatchNorm groups of N rows, where position i of a (shuffled) batch goes to group i
   * mod G, as in the demo's split BatchNorm; G is lowered so that every group has at least 2 rows
   * (a variance needs two samples).
   */
  static int[] groupSizes(int n, int requestedGroups) {
    int groups = Math.max(1, Math.min(requestedGroups, n / 2));
    int[] sizes = new int[groups];
    for (int g = 0; g < groups; g++) {
      sizes[g] = n / groups + (g < n % groups ? 1 : 0);
    }
    return sizes;
  }

  /**
   * The rows of {@code batch} (a permutation of 0..N−1) regrouped: group 0 = batch[0], batch[G],
   * batch[2G], ..., then group 1, and so on; split into {@link #groupSizes} consecutive runs this
   * yields the demo's groups.
   */
  static int[] groupOrder(int[] batch, int requestedGroups) {
    int groups = groupSizes(batch.length, requestedGroups).length;
    int[] order = new int[batch.length];
    int pos = 0;
    for (int g = 0; g < groups; g++) {
      for (int i = g; i < batch.length; i += groups) {
        order[pos++] = batch[i];
      }
    }
    return order;
  }

  /** Split points of consecutive runs of the given sizes. */
  static long[] boundaries(int[] sizes) {
    long[] bounds = new long[sizes.length - 1];
    long at = 0;
    for (int g = 0; g < bounds.length; g++) {
      at += sizes[g];
      bounds[g] = at;
    }
    return bounds;
  }

  private static int[] identity(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    return p;
  }

  private static boolean isIdentity(int[] order) {
    for (int i = 0; i < order.length; i++) {
      if (order[i] != i) {
        return false;
      }
    }
    return true;
  }

  /**
   * f_k ← m·f_k + (1−m)·f_q, in place, over trainable arrays (BatchNorm running statistics are
   * f_k's own).
   */
  private void momentumUpdateKeyEncoder() {
    clock.time(
        Phase.MOMENTUM_UPDATE,
        () -> {
          float m = config.keyMomentum();
          for (int i = 0; i < keyWeights.size(); i++) {
            // as builder.py: param_k.mul_(m).add_(param_q.mul(1 - m)); exact for m = 0 and m = 1.
            // No autograd
            // here, so the Java numbers DJL wraps are used and released within the op.
            try (NDArray scaledQuery = queryWeights.get(i).mul(1 - m)) {
              keyWeights.get(i).muli(m).addi(scaledQuery);
            }
          }
        });
  }

  /**
   * Fills the empty queue slots with random unit keys (standard normal, normalised: uniform on the
   * sphere, as the reference's {@code normalize(randn(dim, K), dim=0)}) with {@link
   * QueueEntry#anonymous} metadata. Called by the constructor when {@link MocoConfig#queueInit()}
   * is {@code RANDOM} (the default). Drawn from (seed, step), so it is reproducible.
   */
  public synchronized void prefillQueue() {
    int empty = queue.capacity() - queue.size();
    if (empty == 0) {
      return;
    }
    GradMode.disableOnThisThread();
    SplittableRandom random = new SplittableRandom(mix(seed, -1 - step));
    int dim = queue.dim();
    float[] keys = new float[empty * dim]; // keys: empty×D
    for (int i = 0; i < empty; i++) {
      double norm = 0;
      double[] v = new double[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = gaussian(random);
        norm += v[d] * v[d];
      }
      double scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
      for (int d = 0; d < dim; d++) {
        keys[i * dim + d] = (float) (v[d] * scale);
      }
    }
    try (NDManager scope = manager.newSubManager()) {
      queue.enqueue(scope.create(keys, new Shape(empty, dim)), anonymous(empty), step);
    }
  }

  // Box–Muller with StrictMath: the same numbers on every JVM.
  private static double gaussian(SplittableRandom random) {
    double u1 = 1.0 - random.nextDouble(); // (0, 1]
    double u2 = random.nextDouble();
    return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
  }

  /** Writes this step's keys (N×D) and their metadata at the queue's pointer. */
  private void dequeueAndEnqueue(NDArray keys, List<QueueEntry> meta, long stepIndex) {
    clock.time(Phase.ENQUEUE, () -> queue.enqueue(keys, meta, stepIndex));
  }

  private NDArray sameSourceMask(NDManager scope, List<QueueEntry> meta) {
    if (config.sameSourceWindowMs() <= 0 || queue.size() == 0) {
      return null;
    }
    float[] mask = queue.sameSourceMask(meta, config.sameSourceWindowMs());
    return mask == null ? null : maskInput.wrap(scope, mask, new Shape(meta.size(), queue.size()));
  }

  private void snapshotBatchNormStatistics() {
    for (int i = 0; i < batchNormStatistics.size(); i++) {
      statisticsBackup.get(i).set(new NDIndex("..."), batchNormStatistics.get(i));
    }
  }

  private void restoreBatchNormStatistics() {
    for (int i = 0; i < batchNormStatistics.size(); i++) {
      batchNormStatistics.get(i).set(new NDIndex("..."), statisticsBackup.get(i));
    }
  }

  /**
   * Backbone features of f_q for {@code n} images (N×C×S×S floats) in inference mode (BatchNorm
   * running statistics, no autograd): N×F floats, not normalised. For the kNN monitor.
   */
  public synchronized float[] features(float[] images, int n) {
    return Encoder.infer(
        queryBackbone, parameters, manager, inferenceInput, arch, arch.featureDim(), images, n);
  }

  /** f_q's L2-normalised head output for {@code n} images in inference mode: N×D floats. */
  public synchronized float[] embed(float[] images, int n) {
    return Encoder.infer(
        queryEncoder, parameters, manager, inferenceInput, arch, arch.embeddingDim(), images, n);
  }

  /**
   * The query backbone's parameters in DJL's {@code Block.saveParameters} format: load with {@link
   * Encoder#load}.
   */
  public synchronized byte[] saveEncoderWeights() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      queryBackbone.saveParameters(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * Writes everything a resumed engine needs to continue bit-identically: f_q and f_k (weights and
   * BatchNorm statistics), SGD momentum buffers, the queue with metadata and pointer, the step and
   * skip counters and the seed (which with the step is the whole RNG state). See {@link
   * EngineState}.
   */
  public synchronized void saveState(OutputStream stream) throws IOException {
    EngineState.write(
        stream,
        arch.toString(),
        config.queueSize(),
        new EngineState.Counters(seed, step, skippedSteps),
        arrays(queryBackbone, queryHead),
        arrays(keyBackbone, keyHead),
        sgd.buffers(),
        queue);
  }

  /**
   * Restores what {@link #saveState} wrote, in place. The engine must have been built with the same
   * architecture and queue size; the saved seed and step replace this engine's.
   */
  public synchronized void loadState(InputStream stream) throws IOException {
    GradMode.disableOnThisThread();
    EngineState.Counters saved =
        EngineState.read(
            stream,
            arch.toString(),
            config.queueSize(),
            arrays(queryBackbone, queryHead),
            arrays(keyBackbone, keyHead),
            sgd.buffers(),
            queue);
    seed = saved.seed();
    step = saved.step();
    skippedSteps = saved.skippedSteps();
  }

  /**
   * SHA-256 over f_q's and f_k's arrays (weights and BatchNorm statistics), for determinism checks
   * and logs: equal digests mean bit-identical encoders.
   */
  public synchronized String parameterDigest() {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      List<NDArray> all = arrays(queryBackbone, queryHead);
      all.addAll(arrays(keyBackbone, keyHead));
      for (NDArray a : all) {
        sha.update(a.toByteArray());
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * True when every array of f_q and f_k (weights and BatchNorm statistics) is finite. A finite
   * loss does not guarantee it: one update with a too-large learning rate can overflow the weights
   * while the loss that produced it was fine. The trainer checks this before it publishes.
   */
  public synchronized boolean parametersFinite() {
    List<NDArray> all = arrays(queryBackbone, queryHead);
    all.addAll(arrays(keyBackbone, keyHead));
    try (NDManager scope = manager.newSubManager()) {
      for (NDArray a : all) {
        // An op's result belongs to its first operand's (long-lived) manager: move each into the
        // scope.
        NDArray nan = a.isNaN();
        nan.attach(scope);
        NDArray inf = a.isInfinite();
        inf.attach(scope);
        if (nan.logicalOr(inf).any().getBoolean()) { // any: scalar boolean
          return false;
        }
      }
    }
    return true;
  }

  public MocoConfig config() {
    return config;
  }

  /** Steps taken (applied or skipped): the index the next step gets. */
  public synchronized long stepCount() {
    return step;
  }

  /** Steps skipped because the loss was not finite. */
  public synchronized long skippedSteps() {
    return skippedSteps;
  }

  /**
   * The queue (read access to its metadata and keys; read it between steps, not while one runs).
   */
  public KeyQueue queue() {
    return queue;
  }

  /**
   * Number of intra-op threads PyTorch uses (results are bit-reproducible only for the same count).
   */
  public static int intraOpThreads() {
    String configured = System.getProperty("ai.djl.pytorch.num_threads");
    return configured != null
        ? Integer.parseInt(configured.trim())
        : Runtime.getRuntime().availableProcessors();
  }

  // test access
  // -----------------------------------------------------------------------------------------------

  List<NDArray> queryWeights() {
    return queryWeights;
  }

  List<NDArray> keyWeights() {
    return keyWeights;
  }

  List<NDArray> keyStatistics() {
    return keyStatistics;
  }

  List<Block> queryBlocks() {
    return List.of(queryBackbone, queryHead);
  }

  /** f_q's arrays (weights and BatchNorm statistics) in DJL's parameter order, with their names. */
  List<Pair<String, Parameter>> queryArrays() {
    List<Pair<String, Parameter>> list = new ArrayList<>();
    for (Block b : new Block[] {queryBackbone, queryHead}) {
      for (Pair<String, Parameter> p : b.getParameters()) {
        list.add(p);
      }
    }
    return list;
  }

  List<NDArray> optimizerBuffers() {
    return sgd.buffers();
  }

  int managedArrayCount() {
    return manager.getManagedArrays().size();
  }

  NDManager manager() {
    return manager;
  }

  // helpers
  // ---------------------------------------------------------------------------------------------------

  private void checkBatch(float[] queryViews, float[] keyViews, int n, List<QueueEntry> entries) {
    Objects.requireNonNull(queryViews, "queryViews");
    Objects.requireNonNull(keyViews, "keyViews");
    if (n < 2) {
      throw new IllegalArgumentException(
          "batch of "
              + n
              + " images: a step needs at least 2 (BatchNorm in "
              + "training mode needs two samples)");
    }
    long need = (long) n * arch.imageFloats();
    if (queryViews.length < need || keyViews.length < need) {
      throw new IllegalArgumentException(
          "views have "
              + queryViews.length
              + " and "
              + keyViews.length
              + " floats but "
              + n
              + " images of "
              + arch.channels()
              + "×"
              + arch.inputSize()
              + "×"
              + arch.inputSize()
              + " need "
              + need);
    }
    if (entries != null && entries.size() != n) {
      throw new IllegalArgumentException(
          entries.size() + " queue entries for a batch of " + n + " images");
    }
  }

  private static List<QueueEntry> twice(List<QueueEntry> meta) {
    List<QueueEntry> both = new ArrayList<>(meta);
    both.addAll(meta);
    return both;
  }

  private List<NDArray> zerosLike(List<NDArray> arrays) {
    List<NDArray> list = new ArrayList<>();
    for (NDArray a : arrays) {
      list.add(manager.zeros(a.getShape(), a.getDataType(), a.getDevice()));
    }
    return list;
  }

  private static List<QueueEntry> anonymous(int n) {
    List<QueueEntry> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(QueueEntry.anonymous(i));
    }
    return list;
  }

  /** All arrays of the blocks (including BatchNorm running statistics), in parameter order. */
  private static List<NDArray> arrays(Block... blocks) {
    List<NDArray> list = new ArrayList<>();
    for (Block b : blocks) {
      for (Pair<String, Parameter> p : b.getParameters()) {
        list.add(p.getValue().getArray());
      }
    }
    return list;
  }

  /**
   * Trainable arrays (weights, biases, γ, β) if {@code weights}, else the BatchNorm running
   * statistics.
   */
  private static List<NDArray> trainable(Block backbone, Block head, boolean weights) {
    List<NDArray> list = new ArrayList<>();
    for (Block b : new Block[] {backbone, head}) {
      for (Pair<String, Parameter> p : b.getParameters()) {
        Parameter.Type type = p.getValue().getType();
        boolean statistic =
            type == Parameter.Type.RUNNING_MEAN || type == Parameter.Type.RUNNING_VAR;
        if (statistic != weights) {
          list.add(p.getValue().getArray());
        }
      }
    }
    return list;
  }

  private static long[] toLongs(int[] values) {
    long[] out = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  @Override
  public synchronized void close() {
    manager.close();
  }
}
