package io.mocostream.trainer.moco;

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
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import io.mocostream.vision.model.Encoders;
import io.mocostream.vision.model.GradMode;
import io.mocostream.vision.model.InputBuffer;
import io.mocostream.trainer.optim.Sgd;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MoCo v2 (He et al., 2020; Chen et al., 2020) on DJL's PyTorch engine: the counterpart of
 * {@code facebookresearch/moco}'s {@code moco/builder.py} plus its training step.
 *
 * <ul>
 *   <li>f_q: backbone + projection head, trained by SGD; f_k: same shape, a copy at the start, never given
 *       gradients, and after every step f_k ← m·f_k + (1−m)·f_q. (The reference applies the same update at the start
 *       of the next step; the sequence of key encoders is identical.)</li>
 *   <li>Negatives: {@link KeyQueue}, K keys with their stream positions, any micro-batch size.</li>
 *   <li>Loss: {@link InfoNce} with temperature T against [k⁺, filled queue]; optionally symmetric.</li>
 *   <li>Shuffle BN on one device: the key batch is permuted (seeded), f_k runs on G groups separately in training
 *       mode, and the keys are put back in order. See {@link #encodeKeys}.</li>
 * </ul>
 *
 * <p>Memory: parameters, optimizer buffers and the queue live in one long-lived manager; every array a step
 * creates lives in that step's sub-manager, closed when the step ends.
 *
 * <p>Determinism: the initial weights come from {@code seed} (see {@link Encoders#initialize}) and the shuffle
 * permutation of step s from (seed, s); with the same inputs and the same intra-op thread count on the CPU, two
 * engines hold bit-identical parameters after any number of steps. The RNG state is therefore (seed, step).
 *
 * <p>Devices: one {@link Device} per engine. With several devices the reference shuffles the key batch across
 * them; here each BatchNorm group plays the part of one device's share (the permutation is global over the batch
 * and each group is normalised on its own), so a multi-device engine would run group g on device g with a replica
 * of f_k — not implemented: a single device is what this engine drives.
 *
 * <p>Methods are synchronized: one step at a time. Not for use from several threads at once.
 */
public final class MocoEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MocoEngine.class);
    private static final int STATE_MAGIC = 0x4D4F434F; // "MOCO"
    private static final int STATE_VERSION = 1;

    private final MocoConfig config;
    private final Architecture arch;
    private final NDManager manager;                 // long-lived: parameters, optimizer buffers, queue
    private final ParameterStore parameters;
    private final SequentialBlock queryBackbone;     // f_q = queryHead ∘ queryBackbone
    private final SequentialBlock queryHead;
    private final SequentialBlock queryEncoder;      // normalize ∘ queryHead ∘ queryBackbone, for embed()
    private final SequentialBlock keyBackbone;       // f_k = keyHead ∘ keyBackbone
    private final SequentialBlock keyHead;
    private final List<NDArray> queryWeights;        // trainable arrays of f_q ...
    private final List<NDArray> keyWeights;          // ... and the f_k arrays they are averaged into, aligned
    private final List<NDArray> batchNormStatistics; // running mean/var of f_q and f_k (not trained, but updated)
    private final List<NDArray> statisticsBackup;    // their values before the step, restored if it is skipped
    private final Sgd sgd;
    private final KeyQueue queue;
    private final InputBuffer queryInput = new InputBuffer();
    private final InputBuffer keyInput = new InputBuffer();
    private final InputBuffer maskInput = new InputBuffer();
    private final InputBuffer inferenceInput = new InputBuffer();
    private long seed;
    private long step;
    private long skippedSteps;

    /** An engine on the CPU. */
    public MocoEngine(MocoConfig config) {
        this(config, Device.cpu());
    }

    public MocoEngine(MocoConfig config, Device device) {
        this.config = Objects.requireNonNull(config, "config");
        this.arch = config.architecture();
        this.seed = config.seed();
        Engine.getInstance().setRandomSeed((int) (seed ^ (seed >>> 32))); // PyTorch's manual seed, for anything else
        GradMode.disableOnThisThread();
        manager = NDManager.newBaseManager(device);
        parameters = new ParameterStore(manager, false);

        queryBackbone = Encoders.backbone(arch);
        queryHead = Encoders.head(arch);
        Encoders.initialize(queryBackbone, queryHead, arch, manager, seed);
        queryEncoder = new SequentialBlock().add(queryBackbone).add(queryHead).addSingleton(x -> x.normalize(2, 1));
        keyBackbone = Encoders.backbone(arch);
        keyHead = Encoders.head(arch);
        keyBackbone.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, Encoders.inputShape(arch, 1));
        keyHead.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, new Shape(1, arch.featureDim()));

        List<NDArray> qAll = arrays(queryBackbone, queryHead);
        List<NDArray> kAll = arrays(keyBackbone, keyHead);
        for (int i = 0; i < qAll.size(); i++) {
            kAll.get(i).set(new NDIndex("..."), qAll.get(i));   // f_k starts as a copy of f_q
        }
        keyBackbone.freezeParameters(true);                      // f_k never receives gradients
        keyHead.freezeParameters(true);

        queryWeights = trainable(queryBackbone, queryHead, true);
        keyWeights = trainable(keyBackbone, keyHead, true);
        batchNormStatistics = new ArrayList<>(trainable(queryBackbone, queryHead, false));
        batchNormStatistics.addAll(trainable(keyBackbone, keyHead, false));
        statisticsBackup = new ArrayList<>();
        for (NDArray s : batchNormStatistics) {
            statisticsBackup.add(manager.zeros(s.getShape(), s.getDataType(), s.getDevice()));
        }
        sgd = new Sgd(manager, queryWeights, config.sgdMomentum(), config.weightDecay());
        queue = new KeyQueue(manager, arch.embeddingDim(), config.queueSize());
        LOG.info("MoCo engine: {} ({} trainable parameters in the query encoder), K={}, m={}, T={}, symmetric={}, "
                        + "BN groups={}, device={}, seed={}", arch, Encoders.trainableParameters(queryBackbone)
                        + Encoders.trainableParameters(queryHead), config.queueSize(), config.keyMomentum(),
                config.temperature(), config.symmetric(), config.shuffleBnGroups(), device, seed);
    }

    /**
     * One MoCo step on {@code n} image pairs: two augmented views of each image, N×C×S×S floats, row-major,
     * already normalised. {@code entries} (one per image, or null for anonymous images) become the metadata of
     * the keys enqueued. Steps with a non-finite loss change nothing but the step counter and
     * {@link #skippedSteps()}.
     */
    public synchronized StepResult step(float[] queryViews, float[] keyViews, int n, List<QueueEntry> entries) {
        checkBatch(queryViews, keyViews, n, entries);
        List<QueueEntry> meta = entries != null ? entries : anonymous(n);
        long t0 = System.nanoTime();
        long stepIndex = step++;
        float lr = config.learningRate().at(stepIndex);
        GradMode.disableOnThisThread();
        snapshotBatchNormStatistics();
        try (NDManager scope = manager.newSubManager()) {
            Shape shape = Encoders.inputShape(arch, n);
            NDArray imQ = queryInput.wrap(scope, queryViews, shape);             // imQ: N×C×S×S
            NDArray imK = keyInput.wrap(scope, keyViews, shape);                 // imK: N×C×S×S
            long t1 = System.nanoTime();

            // keys: no gradient, shuffled BatchNorm groups
            NDArray k = encodeKeys(imK, stepIndex, 0);                           // k: N×D
            NDArray kOfQueryView = config.symmetric() ? encodeKeys(imQ, stepIndex, 1) : null;
            NDArray negatives = queue.negatives(scope);                          // negatives: D×M (M filled slots)
            NDArray mask = sameSourceMask(scope, meta);                          // mask: N×M or null
            int negativeCount = negatives == null ? 0 : Math.toIntExact(negatives.getShape().get(1));
            long t2 = System.nanoTime();

            float loss;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray q = encodeQueries(imQ);                                  // q: N×D
                NDArray lossArray = InfoNce.loss(q, k, negatives, mask, config.temperature());
                if (config.symmetric()) {                                        // view 2 as query, view 1 as key
                    NDArray q2 = encodeQueries(imK);
                    lossArray = lossArray.add(InfoNce.loss(q2, kOfQueryView, negatives, mask, config.temperature()))
                            .mul(0.5f);
                }
                loss = lossArray.getFloat();
                if (!Float.isFinite(loss)) {
                    restoreBatchNormStatistics();
                    skippedSteps++;
                    LOG.warn("step {}: loss {} is not finite; step skipped (no update, no enqueue), {} skipped so far",
                            stepIndex, loss, skippedSteps);
                    long t = System.nanoTime();
                    return new StepResult(stepIndex, loss, false, lr, n, negativeCount,
                            new StepTimings(ms(t0, t1), ms(t1, t2), ms(t2, t), 0, 0, 0, ms(t0, t)));
                }
                collector.backward(lossArray);
            }
            double gradNorm = sgd.gradientNorm(scope);
            if (!Double.isFinite(gradNorm)) {
                // The loss was finite but the backward pass overflowed: updating would make the weights NaN for good.
                sgd.zeroGradients(scope);
                restoreBatchNormStatistics();
                skippedSteps++;
                LOG.warn("step {}: gradients are not finite (loss {}); step skipped (no update, no enqueue), {} skipped "
                        + "so far", stepIndex, loss, skippedSteps);
                long t = System.nanoTime();
                return new StepResult(stepIndex, loss, false, lr, n, negativeCount,
                        new StepTimings(ms(t0, t1), ms(t1, t2), ms(t2, t), 0, 0, 0, ms(t0, t)));
            }
            if (config.gradClipNorm() > 0 && gradNorm > config.gradClipNorm()) {
                sgd.scaleGradients((float) (config.gradClipNorm() / gradNorm), scope);
            }
            long t3 = System.nanoTime();

            sgd.step(lr, scope);
            long t4 = System.nanoTime();
            momentumUpdateKeyEncoder();
            long t5 = System.nanoTime();
            if (config.symmetric()) {                                            // both key batches: [k1; k2]
                List<QueueEntry> both = new ArrayList<>(meta);
                both.addAll(meta);
                dequeueAndEnqueue(kOfQueryView.concat(k, 0), both, stepIndex);
            } else {
                dequeueAndEnqueue(k, meta, stepIndex);
            }
            long t6 = System.nanoTime();
            return new StepResult(stepIndex, loss, true, lr, n, negativeCount,
                    new StepTimings(ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t4, t5), ms(t5, t6),
                            ms(t0, t6)));
        }
    }

    /** q = normalize(f_q(x)), with autograd history (called inside the gradient collector). */
    private NDArray encodeQueries(NDArray images) {
        NDArray features = queryBackbone.forward(parameters, new NDList(images), true).singletonOrThrow();
        NDArray q = queryHead.forward(parameters, new NDList(features), true).singletonOrThrow(); // q: N×D
        return q.normalize(2, 1);
    }

    /**
     * k = unshuffle(normalize(f_k(shuffle(x)))) with f_k run separately on G groups of the shuffled batch, in
     * training mode: BatchNorm statistics then come from a random subset of the batch, so a query and its key
     * never share them (the "cheating" MoCo's shuffle BN prevents).
     *
     * <p>Why separate forward passes rather than a split-BatchNorm layer (the CIFAR demo's reshape N×C×H×W →
     * (N/G)×(G·C)×H×W): in training mode each group's output is exactly what split BatchNorm computes, and it reuses
     * DJL's BatchNorm and residual units unchanged. The two differ only in f_k's running statistics (updated once
     * per group here, averaged over groups there), which MoCo never reads: f_k is only ever run in training mode,
     * and features for evaluation come from f_q.
     */
    private NDArray encodeKeys(NDArray images, long stepIndex, int view) {
        int n = Math.toIntExact(images.getShape().get(0));
        NDManager scope = images.getManager();
        int[] permutation = shufflePermutation(seed, stepIndex, view, n);
        NDArray order = scope.create(toLongs(permutation));                      // order: N (int64)
        NDArray shuffled = batchShuffle(images, order);                          // shuffled: N×C×S×S
        NDList groups = shuffled.split(groupBoundaries(n, config.shuffleBnGroups()), 0);
        NDList keys = new NDList(groups.size());
        for (NDArray group : groups) {                                           // group: n_g×C×S×S
            NDArray features = keyBackbone.forward(parameters, new NDList(group), true).singletonOrThrow();
            NDArray key = keyHead.forward(parameters, new NDList(features), true).singletonOrThrow();
            keys.add(key.normalize(2, 1));                                       // key: n_g×D
        }
        NDArray shuffledKeys = keys.size() == 1 ? keys.get(0) : NDArrays.concat(keys, 0); // N×D, shuffled order
        return batchUnshuffle(shuffledKeys, order);
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
     * The permutation that shuffles the key batch of {@code view} at step {@code step}: Fisher–Yates driven by a
     * {@link SplittableRandom} seeded from (seed, step, view), so it is reproducible from the stream position alone.
     */
    static int[] shufflePermutation(long seed, long step, int view, int n) {
        SplittableRandom random = new SplittableRandom(mix(mix(seed, step), view));
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b;                // SplitMix64 finaliser over the pair
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Split points for G nearly equal groups of N (sizes differ by at most one), with at least 2 images per group:
     * BatchNorm in training mode needs two samples for a variance.
     */
    static long[] groupBoundaries(int n, int requestedGroups) {
        int groups = Math.max(1, Math.min(requestedGroups, n / 2));
        long[] bounds = new long[groups - 1];
        for (int g = 1; g < groups; g++) {
            bounds[g - 1] = (long) n * g / groups;
        }
        return bounds;
    }

    /** f_k ← m·f_k + (1−m)·f_q, in place, over trainable arrays (BatchNorm running statistics are f_k's own). */
    private void momentumUpdateKeyEncoder() {
        float m = config.keyMomentum();
        for (int i = 0; i < keyWeights.size(); i++) {
            // as builder.py: param_k.mul_(m).add_(param_q.mul(1 - m)); exact for m = 0 and m = 1
            try (NDArray scaledQuery = queryWeights.get(i).mul(1 - m)) {
                keyWeights.get(i).muli(m).addi(scaledQuery);
            }
        }
    }

    /**
     * Fills the empty queue slots with random unit keys (uniform in [−1, 1]^D, normalised), as {@code builder.py}
     * starts from a random normalised queue, with {@link QueueEntry#anonymous} metadata. Off by default (a fresh queue contributes no
     * negatives); for benchmarks that need a full queue from the first step, and for runs that want the reference's
     * start. Drawn from (seed, step), so it is reproducible.
     */
    public synchronized void prefillQueue() {
        int empty = queue.capacity() - queue.size();
        if (empty == 0) {
            return;
        }
        GradMode.disableOnThisThread();
        SplittableRandom random = new SplittableRandom(mix(seed, -1 - step));
        int dim = queue.dim();
        float[] keys = new float[empty * dim];
        for (int i = 0; i < empty; i++) {
            double norm = 0;
            for (int d = 0; d < dim; d++) {
                float v = (float) (random.nextDouble() * 2 - 1);
                keys[i * dim + d] = v;
                norm += v * v;
            }
            float scale = (float) (1 / Math.sqrt(norm));
            for (int d = 0; d < dim; d++) {
                keys[i * dim + d] *= scale;
            }
        }
        try (NDManager scope = manager.newSubManager()) {
            queue.enqueue(scope.create(keys, new Shape(empty, dim)), anonymous(empty), step);
        }
    }

    /** Writes this step's keys (N×D) and their metadata at the queue's pointer. */
    private void dequeueAndEnqueue(NDArray keys, List<QueueEntry> meta, long stepIndex) {
        queue.enqueue(keys, meta, stepIndex);
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
     * Backbone features of f_q for {@code n} images (N×C×S×S floats) in inference mode (BatchNorm running
     * statistics, no autograd): N×F floats, not normalised. For the kNN monitor.
     */
    public synchronized float[] features(float[] images, int n) {
        return Encoder.infer(queryBackbone, parameters, manager, inferenceInput, arch, arch.featureDim(), images, n);
    }

    /** f_q's L2-normalised head output for {@code n} images in inference mode: N×D floats. */
    public synchronized float[] embed(float[] images, int n) {
        return Encoder.infer(queryEncoder, parameters, manager, inferenceInput, arch, arch.embeddingDim(), images, n);
    }

    /** The query backbone's parameters in DJL's {@code Block.saveParameters} format: load with {@link Encoder#load}. */
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
     * Writes everything a resumed engine needs to continue bit-identically: f_q and f_k (weights and BatchNorm
     * statistics), SGD momentum buffers, the queue with metadata and pointer, the step and skip counters and the
     * seed (which with the step is the whole RNG state). Floats are written raw (little-endian), so the restore is
     * exact.
     */
    public synchronized void saveState(OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
        out.writeInt(STATE_MAGIC);
        out.writeInt(STATE_VERSION);
        out.writeUTF(arch.toString());
        out.writeInt(config.queueSize());
        out.writeLong(seed);
        out.writeLong(step);
        out.writeLong(skippedSteps);
        writeArrays(out, arrays(queryBackbone, queryHead));
        writeArrays(out, arrays(keyBackbone, keyHead));
        writeArrays(out, sgd.buffers());
        queue.save(out);
        out.flush();
    }

    /**
     * Restores what {@link #saveState} wrote, in place. The engine must have been built with the same architecture
     * and queue size; the saved seed and step replace this engine's.
     */
    public synchronized void loadState(InputStream stream) throws IOException {
        GradMode.disableOnThisThread();
        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(stream, 1 << 16));
        if (in.readInt() != STATE_MAGIC) {
            throw new IOException("not a MoCo engine state (bad magic number)");
        }
        int version = in.readInt();
        if (version != STATE_VERSION) {
            throw new IOException("MoCo engine state version " + version + " is not supported (expected "
                    + STATE_VERSION + ")");
        }
        String savedArch = in.readUTF();
        int savedQueue = in.readInt();
        if (!savedArch.equals(arch.toString()) || savedQueue != config.queueSize()) {
            throw new IOException("MoCo engine state is for architecture " + savedArch + " with K=" + savedQueue
                    + " but this engine is " + arch + " with K=" + config.queueSize());
        }
        long savedSeed = in.readLong();
        long savedStep = in.readLong();
        long savedSkipped = in.readLong();
        readArrays(in, arrays(queryBackbone, queryHead), "query encoder");
        readArrays(in, arrays(keyBackbone, keyHead), "key encoder");
        readArrays(in, sgd.buffers(), "optimizer");
        queue.load(in);
        seed = savedSeed;
        step = savedStep;
        skippedSteps = savedSkipped;
    }

    private static void writeArrays(DataOutputStream out, List<NDArray> arrays) throws IOException {
        out.writeInt(arrays.size());
        for (NDArray a : arrays) {
            long[] dims = a.getShape().getShape();
            out.writeInt(dims.length);
            for (long d : dims) {
                out.writeLong(d);
            }
            float[] values = a.toFloatArray();
            ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
            out.write(bytes.array());
        }
    }

    private static void readArrays(DataInputStream in, List<NDArray> arrays, String what) throws IOException {
        int count = in.readInt();
        if (count != arrays.size()) {
            throw new IOException(what + " state has " + count + " arrays, expected " + arrays.size());
        }
        for (int i = 0; i < count; i++) {
            long[] dims = new long[in.readInt()];
            for (int d = 0; d < dims.length; d++) {
                dims[d] = in.readLong();
            }
            Shape shape = new Shape(dims);
            if (!shape.equals(arrays.get(i).getShape())) {
                throw new IOException(what + " state: array " + i + " has shape " + shape + ", expected "
                        + arrays.get(i).getShape());
            }
            byte[] bytes = new byte[Math.toIntExact(shape.size() * Float.BYTES)];
            in.readFully(bytes);
            float[] values = new float[Math.toIntExact(shape.size())];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            Encoders.copyInto(arrays.get(i), values);
        }
    }

    /**
     * SHA-256 over f_q's and f_k's arrays (weights and BatchNorm statistics), for determinism checks and logs:
     * equal digests mean bit-identical encoders.
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
     * True when every array of f_q and f_k (weights and BatchNorm statistics) is finite. A finite loss does not
     * guarantee it: one update with a too-large learning rate can overflow the weights while the loss that produced
     * it was fine. The trainer checks this before it publishes.
     */
    public synchronized boolean parametersFinite() {
        List<NDArray> all = arrays(queryBackbone, queryHead);
        all.addAll(arrays(keyBackbone, keyHead));
        try (NDManager scope = manager.newSubManager()) {
            for (NDArray a : all) {
                // An op's result belongs to its first operand's (long-lived) manager: move each into the scope.
                NDArray nan = a.isNaN();
                nan.attach(scope);
                NDArray inf = a.isInfinite();
                inf.attach(scope);
                if (nan.logicalOr(inf).any().getBoolean()) {                       // any: scalar boolean
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

    /** The queue (read access to its metadata and keys; read it between steps, not while one runs). */
    public KeyQueue queue() {
        return queue;
    }

    /** Number of intra-op threads PyTorch uses (results are bit-reproducible only for the same count). */
    public static int intraOpThreads() {
        String configured = System.getProperty("ai.djl.pytorch.num_threads");
        return configured != null ? Integer.parseInt(configured.trim()) : Runtime.getRuntime().availableProcessors();
    }

    // test access -----------------------------------------------------------------------------------------------

    List<NDArray> queryWeights() {
        return queryWeights;
    }

    List<NDArray> keyWeights() {
        return keyWeights;
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

    // helpers ---------------------------------------------------------------------------------------------------

    private void checkBatch(float[] queryViews, float[] keyViews, int n, List<QueueEntry> entries) {
        Objects.requireNonNull(queryViews, "queryViews");
        Objects.requireNonNull(keyViews, "keyViews");
        if (n < 2) {
            throw new IllegalArgumentException("batch of " + n + " images: a step needs at least 2 (BatchNorm in "
                    + "training mode needs two samples)");
        }
        long need = (long) n * arch.imageFloats();
        if (queryViews.length < need || keyViews.length < need) {
            throw new IllegalArgumentException("views have " + queryViews.length + " and " + keyViews.length
                    + " floats but " + n + " images of " + arch.channels() + "×" + arch.inputSize() + "×"
                    + arch.inputSize() + " need " + need);
        }
        if (entries != null && entries.size() != n) {
            throw new IllegalArgumentException(entries.size() + " queue entries for a batch of " + n + " images");
        }
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

    /** Trainable arrays (weights, biases, γ, β) if {@code weights}, else the BatchNorm running statistics. */
    private static List<NDArray> trainable(Block backbone, Block head, boolean weights) {
        List<NDArray> list = new ArrayList<>();
        for (Block b : new Block[] {backbone, head}) {
            for (Pair<String, Parameter> p : b.getParameters()) {
                Parameter.Type type = p.getValue().getType();
                boolean statistic = type == Parameter.Type.RUNNING_MEAN || type == Parameter.Type.RUNNING_VAR;
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

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    @Override
    public synchronized void close() {
        manager.close();
    }
}
