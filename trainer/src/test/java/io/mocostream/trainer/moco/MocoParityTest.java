package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.util.Pair;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.trainer.optim.LearningRate;
import io.mocostream.vision.model.Architecture;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine against a reference MoCo v2 in PyTorch ({@code src/test/python/moco_reference.py},
 * written from the paper's Algorithm 1 and the authors' CIFAR-10 demo), step by step for {@value
 * #STEPS} steps, from the same initial weights, initial queue, inputs and shuffle permutations:
 * loss, q and k, gradients, f_q after the update (weights and BatchNorm statistics), the key
 * encoder that computed each step's keys, f_k's statistics and the queue.
 *
 * <p>The reference runs on Debian's {@code python3-torch} (1.13, CPU), the engine on DJL's PyTorch
 * 2.7: kernels differ in rounding, so values are compared to a tolerance on max |engine −
 * reference| / max(1, max |reference|) per quantity: {@value #FIRST_STEP_TOLERANCE} at step 0 (both
 * sides start from the same state, so any one-step semantic difference — a BatchNorm group, a
 * factor, the weight decay, the momentum update — shows far above it) and {@value #TOLERANCE} at
 * later steps, where float32 rounding compounds through the updates (gradients near a ReLU kink are
 * the most sensitive); a wrong loss sum, queue order or group assignment exceeds that too.
 *
 * <p>Skipped when no python3 with torch is found, except in CI ({@code CI=true}), where that fails.
 */
class MocoParityTest {

  static final int STEPS = 20;
  static final int N = 16;
  static final int K = 64;

  /** Base rate per 256 images: 0.05 at N = 16 under linear scaling. */
  static final float BASE_LR = 0.8f;

  /**
   * A width-16 ResNet-18 (every channel count a multiple of 16, see Tiny) on 16×16 RGB: the last
   * stage still sees 2×2 pixels, so BatchNorm averages over ≥ 32 values per channel; at 8×8 (1×1 in
   * the last stage, 8 values) the gradients are so ill-conditioned that float32 rounding alone
   * grows 10× per step.
   */
  static final Architecture ARCH = Tiny.ARCH.withInput(3, 16);

  /** Step 0 starts both sides from the same state: one step of rounding apart. */
  static final double FIRST_STEP_TOLERANCE = 1e-5;

  /**
   * Later steps: rounding differences compound through the updates (measured worst ≈ 5e-3 over 20
   * steps).
   */
  static final double TOLERANCE = 1e-2;

  /**
   * Gradients at later steps: the most sensitive quantity (a pre-activation that crosses 0 by
   * rounding flips a ReLU's gradient), measured up to ≈ 6e-3; a wrong factor (averaged instead of
   * summed losses) is 0.5. A semantic difference that is small per step (weight decay, momentum) is
   * caught at step 0.
   */
  static final double GRADIENT_TOLERANCE = 2e-2;

  @ParameterizedTest(name = "symmetric={0}, BatchNorm groups={1}")
  @CsvSource({"false,1", "false,2", "true,1", "true,2"})
  void everyStepMatchesTheReference(boolean symmetric, int groups, @TempDir Path dir)
      throws Exception {
    String python = torchPython();
    MocoConfig config =
        MocoConfig.builder(ARCH)
            .queueSize(K)
            .keyMomentum(0.99f)
            .temperature(0.2f)
            .symmetric(symmetric)
            .shuffleBnGroups(groups)
            .learningRate(LearningRate.constant(BASE_LR))
            .weightDecay(1e-2f)
            .seed(11)
            .build(); // wd large enough to show in a step
    assertEquals(MocoConfig.LrScaling.LINEAR, config.lrScaling());
    assertEquals(MocoConfig.QueueInit.RANDOM, config.queueInit());
    List<Map<String, float[]>> engineSteps = new ArrayList<>();
    try (MocoEngine engine = new MocoEngine(config)) {
      exportStart(engine, config, dir);
      Recorder recorder = new Recorder();
      engine.observer = recorder;
      for (int s = 0; s < STEPS; s++) {
        float[] im1 = images(100 + s, N);
        float[] im2 = images(200 + s, N);
        writeFloats(dir.resolve("im1_" + s + ".f32"), im1);
        writeFloats(dir.resolve("im2_" + s + ".f32"), im2);
        for (int view = 0; view < 2; view++) {
          writeInts(
              dir.resolve("perm_" + s + "_" + view + ".i32"),
              MocoEngine.shufflePermutation(config.seed(), s, view, N));
        }
        Map<String, float[]> record = recorder.start();
        record.put(
            "keyWeights", flatten(engine.keyWeights())); // the f_k that computes step s's keys
        StepResult r = engine.step(im1, im2, N, null);
        assertTrue(r.finite());
        assertEquals(K, r.negatives(), "a random queue gives K negatives from step 0");
        record.put("loss", new float[] {r.loss()});
        record.put("query", flatten(arrays(engine.queryArrays())));
        record.put("keyStatistics", flatten(engine.keyStatistics()));
        record.put("queue", engine.queue().keysSnapshot());
        engineSteps.add(record);
      }
    }

    runReference(python, dir);
    String keep = System.getProperty("parity.keep"); // debugging: keep both sides
    if (keep != null) {
      Path to = Path.of(keep, symmetric + "-" + groups);
      Files.createDirectories(to.resolve("engine"));
      for (int s = 0; s < STEPS; s++) {
        for (Map.Entry<String, float[]> e : engineSteps.get(s).entrySet()) {
          writeFloats(to.resolve("engine").resolve(s + "_" + e.getKey() + ".f32"), e.getValue());
        }
      }
      try (var files = Files.walk(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Path target = to.resolve(dir.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(target);
          } else {
            Files.copy(f, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    }

    Map<String, Double> worst = new TreeMap<>();
    for (int s = 0; s < STEPS; s++) {
      for (Map.Entry<String, float[]> e : engineSteps.get(s).entrySet()) {
        Path file = dir.resolve("out").resolve(s + "_" + e.getKey() + ".f32");
        float[] reference = readFloats(file);
        double error = relativeError(e.getValue(), reference, e.getKey() + " at step " + s);
        worst.merge(e.getKey(), error, Math::max);
        double tolerance =
            s == 0
                ? FIRST_STEP_TOLERANCE
                : e.getKey().equals("grad") ? GRADIENT_TOLERANCE : TOLERANCE;
        assertTrue(
            error <= tolerance,
            String.format(
                Locale.ROOT,
                "%s at step %d: max |engine − reference| / max(1, max |reference|) = %.3g > %.0g",
                e.getKey(),
                s,
                error,
                tolerance));
      }
    }
    System.out.printf(
        Locale.ROOT,
        "parity symmetric=%s groups=%d over %d steps, worst relative error: %s%n",
        symmetric,
        groups,
        STEPS,
        worst);
    assertEquals(symmetric ? 10 : 8, worst.size(), "every quantity compared: " + worst.keySet());
  }

  private static float[] images(long seed, int n) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    float[] x = new float[n * ARCH.imageFloats()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }

  /** Records what the engine computes inside a step. */
  private static final class Recorder implements StepObserver {
    private Map<String, float[]> current;

    Map<String, float[]> start() {
      current = new LinkedHashMap<>();
      return current;
    }

    @Override
    public void keys(int view, NDArray k) {
      current.put(view == 0 ? "k2" : "k1", k.toFloatArray());
    }

    @Override
    public void queries(int view, NDArray q) {
      current.put(view == 0 ? "q1" : "q2", q.toFloatArray());
    }

    @Override
    public void gradients(List<NDArray> weights) {
      List<NDArray> grads = new ArrayList<>();
      for (NDArray w : weights) {
        grads.add(w.getGradient());
      }
      current.put("grad", flatten(grads));
      grads.forEach(NDArray::close);
    }
  }

  private static void exportStart(MocoEngine engine, MocoConfig config, Path dir)
      throws IOException, ReflectiveOperationException {
    List<Map<String, Object>> specs = new ArrayList<>();
    List<NDArray> all = new ArrayList<>();
    for (Pair<String, Parameter> p : engine.queryArrays()) {
      NDArray a = p.getValue().getArray();
      all.add(a);
      specs.add(
          Map.of(
              "name",
              p.getKey(),
              "kind",
              kind(p.getValue().getType()),
              "shape",
              a.getShape().getShape()));
    }
    writeFloats(dir.resolve("init.f32"), flatten(all));
    writeFloats(
        dir.resolve("queue0.f32"), engine.queue().keysSnapshot()); // D×K, the engine's random start
    float[] bn = batchNormSettings(engine);
    Map<String, Object> manifest = new LinkedHashMap<>();
    manifest.put("steps", STEPS);
    manifest.put("batch", N);
    manifest.put("channels", config.architecture().channels());
    manifest.put("size", config.architecture().inputSize());
    manifest.put("width", config.architecture().width());
    manifest.put("dim", config.architecture().embeddingDim());
    manifest.put("queueSize", K);
    manifest.put("groups", config.shuffleBnGroups());
    manifest.put("symmetric", config.symmetric());
    manifest.put("keyMomentum", (double) config.keyMomentum());
    manifest.put("temperature", (double) config.temperature());
    manifest.put("baseLr", (double) BASE_LR);
    manifest.put("sgdMomentum", (double) config.sgdMomentum());
    manifest.put("weightDecay", (double) config.weightDecay());
    manifest.put("bnEpsilon", (double) bn[0]);
    manifest.put("bnMomentum", 1.0 - bn[1]); // DJL's 0.9 is PyTorch's 0.1
    manifest.put("arrays", specs);
    new ObjectMapper().writeValue(dir.resolve("manifest.json").toFile(), manifest);
  }

  /**
   * (epsilon, momentum) of the encoder's BatchNorm layers, read from the blocks; all layers must
   * agree.
   */
  private static float[] batchNormSettings(MocoEngine engine) throws ReflectiveOperationException {
    List<float[]> found = new ArrayList<>();
    Field eps = BatchNorm.class.getDeclaredField("epsilon");
    Field momentum = BatchNorm.class.getDeclaredField("momentum");
    eps.setAccessible(true);
    momentum.setAccessible(true);
    for (Block b : engine.queryBlocks()) {
      collect(b, eps, momentum, found);
    }
    assertTrue(!found.isEmpty());
    for (float[] f : found) {
      assertEquals(found.get(0)[0], f[0], "BatchNorm epsilons differ");
      assertEquals(found.get(0)[1], f[1], "BatchNorm momenta differ");
    }
    return found.get(0);
  }

  private static void collect(Block block, Field eps, Field momentum, List<float[]> found)
      throws IllegalAccessException {
    if (block instanceof BatchNorm bn) {
      found.add(new float[] {eps.getFloat(bn), momentum.getFloat(bn)});
    }
    for (Pair<String, Block> child : block.getChildren()) {
      collect(child.getValue(), eps, momentum, found);
    }
  }

  private static String kind(Parameter.Type type) {
    return switch (type) {
      case WEIGHT -> "weight";
      case BIAS -> "bias";
      case GAMMA -> "gamma";
      case BETA -> "beta";
      case RUNNING_MEAN -> "runningMean";
      case RUNNING_VAR -> "runningVar";
      default -> throw new IllegalStateException("no reference counterpart for " + type);
    };
  }

  /** A python3 that imports torch; skips the test when there is none, except in CI. */
  static String torchPython() throws InterruptedException {
    for (String candidate : new String[] {"python3", "/usr/bin/python3"}) {
      try {
        Process p =
            new ProcessBuilder(candidate, "-c", "import torch").redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return candidate;
        }
        p.destroyForcibly();
      } catch (IOException notThere) {
        // next candidate
      }
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("CI=true but no python3 with torch: install python3-torch (.ci/run does)");
    }
    Assumptions.abort(
        "no python3 with torch (apt-get install python3-torch); parity not checked here");
    throw new IllegalStateException("unreachable");
  }

  private static void runReference(String python, Path dir)
      throws IOException, InterruptedException {
    Path script =
        Path.of(System.getProperty("basedir", "."), "src", "test", "python", "moco_reference.py");
    assertTrue(Files.isRegularFile(script), "reference script " + script.toAbsolutePath());
    Path log = dir.resolve("reference.log");
    Process p =
        new ProcessBuilder(python, script.toString(), dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("reference did not finish in 300 s: " + Files.readString(log));
    }
    assertEquals(0, p.exitValue(), "reference failed: " + Files.readString(log));
  }

  private static double relativeError(float[] engine, float[] reference, String what) {
    assertEquals(reference.length, engine.length, what + ": element count");
    double maxDiff = 0;
    double maxRef = 1;
    for (int i = 0; i < engine.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs((double) engine[i] - reference[i]));
      maxRef = Math.max(maxRef, Math.abs(reference[i]));
    }
    if (Double.isNaN(maxDiff)) {
      fail(what + ": NaN");
    }
    return maxDiff / maxRef;
  }

  private static List<NDArray> arrays(List<Pair<String, Parameter>> params) {
    List<NDArray> list = new ArrayList<>();
    for (Pair<String, Parameter> p : params) {
      list.add(p.getValue().getArray());
    }
    return list;
  }

  private static float[] flatten(List<NDArray> arrays) {
    int size = 0;
    List<float[]> parts = new ArrayList<>();
    for (NDArray a : arrays) {
      float[] v = a.toFloatArray();
      parts.add(v);
      size += v.length;
    }
    float[] out = new float[size];
    int at = 0;
    for (float[] v : parts) {
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  private static void writeFloats(Path file, float[] values) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    Files.write(file, b.array());
  }

  private static void writeInts(Path file, int[] values) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    Files.write(file, b.array());
  }

  private static float[] readFloats(Path file) throws IOException {
    assertTrue(Files.isRegularFile(file), "the reference wrote no " + file.getFileName());
    byte[] bytes = Files.readAllBytes(file);
    float[] values = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }
}
