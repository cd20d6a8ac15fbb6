package io.mocostream.vision.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Objects;

/**
 * A backbone for inference only: images in, pooled features out (BatchNorm with running statistics,
 * no autograd). Built from an {@link Architecture} plus the bytes of {@code
 * MocoEngine.saveEncoderWeights()} (DJL's {@code Block.saveParameters} format). Used by the kNN
 * monitor and by encoder subscribers.
 *
 * <p>Calls are serialised (one input buffer); close it to free its arrays.
 */
public final class Encoder implements AutoCloseable {

  /** Images per forward pass: bounds the memory of {@link #features} for large inputs. */
  static final int CHUNK = 256;

  private final Architecture architecture;
  private final NDManager manager;
  private final Block backbone;
  private final ParameterStore parameters;
  private final InputBuffer input = new InputBuffer();

  private Encoder(Architecture architecture, NDManager manager, Block backbone) {
    this.architecture = architecture;
    this.manager = manager;
    this.backbone = backbone;
    this.parameters = new ParameterStore(manager, false);
  }

  /** Loads backbone weights on the CPU. */
  public static Encoder load(Architecture architecture, byte[] backboneWeights) {
    return load(architecture, backboneWeights, Device.cpu());
  }

  /**
   * Builds {@code architecture}'s backbone and loads {@code backboneWeights} into it.
   *
   * @throws IllegalArgumentException if the bytes are not a parameter set of exactly this
   *     architecture
   */
  public static Encoder load(Architecture architecture, byte[] backboneWeights, Device device) {
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(backboneWeights, "backboneWeights");
    GradMode.disableOnThisThread();
    NDManager manager = NDManager.newBaseManager(device);
    try {
      Block backbone = Encoders.backbone(architecture);
      backbone.initialize(manager, DataType.FLOAT32, Encoders.inputShape(architecture, 1));
      // loadParameters replaces each parameter's array without closing the old one: close them
      // ourselves
      java.util.List<NDArray> initial = new java.util.ArrayList<>();
      backbone.getParameters().forEach(p -> initial.add(p.getValue().getArray()));
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(backboneWeights))) {
        backbone.loadParameters(manager, in);
        if (in.read() != -1) {
          throw new MalformedModelException("trailing bytes after the parameters");
        }
      }
      int i = 0;
      for (var pair : backbone.getParameters()) {
        NDArray loaded = pair.getValue().getArray();
        if (!loaded.getShape().equals(initial.get(i).getShape())) {
          throw new MalformedModelException(
              "parameter "
                  + pair.getKey()
                  + " has shape "
                  + loaded.getShape()
                  + ", expected "
                  + initial.get(i).getShape());
        }
        i++;
      }
      initial.forEach(NDArray::close);
      return new Encoder(architecture, manager, backbone);
    } catch (IOException | MalformedModelException | RuntimeException e) {
      manager.close();
      throw new IllegalArgumentException(
          "encoder weights ("
              + backboneWeights.length
              + " bytes) do not load into architecture "
              + architecture
              + ": "
              + e.getMessage(),
          e);
    }
  }

  public Architecture architecture() {
    return architecture;
  }

  public int featureDim() {
    return architecture.featureDim();
  }

  /**
   * Pooled backbone features of {@code n} images, {@code images} being n×C×S×S floats, row-major,
   * normalised the way training inputs are. Returns n×F floats, row-major (not L2-normalised).
   */
  public synchronized float[] features(float[] images, int n) {
    return infer(
        backbone, parameters, manager, input, architecture, architecture.featureDim(), images, n);
  }

  /**
   * The shared inference loop (also used by the trainer's query encoder): {@code block} maps
   * n×C×S×S images to n×{@code outDim}; run in chunks of {@value #CHUNK} images, each in its own
   * scope, in inference mode.
   */
  public static float[] infer(
      Block block,
      ParameterStore parameters,
      NDManager manager,
      InputBuffer input,
      Architecture arch,
      int outDim,
      float[] images,
      int n) {
    Objects.requireNonNull(images, "images");
    int per = arch.imageFloats();
    if (n < 1 || (long) n * per > images.length) {
      throw new IllegalArgumentException(
          "images has "
              + images.length
              + " floats, too few for n="
              + n
              + " images of "
              + arch.channels()
              + "×"
              + arch.inputSize()
              + "×"
              + arch.inputSize());
    }
    GradMode.disableOnThisThread();
    float[] out = new float[Math.multiplyExact(n, outDim)];
    float[] chunk = n <= CHUNK ? images : new float[CHUNK * per];
    for (int start = 0; start < n; start += CHUNK) {
      int m = Math.min(CHUNK, n - start);
      if (chunk != images) {
        System.arraycopy(images, start * per, chunk, 0, m * per);
      }
      try (NDManager scope = manager.newSubManager()) {
        NDArray x = input.wrap(scope, chunk, Encoders.inputShape(arch, m)); // x: m×C×S×S
        NDArray y =
            block.forward(parameters, new NDList(x), false).singletonOrThrow(); // y: m×outDim
        System.arraycopy(y.toFloatArray(), 0, out, start * outDim, m * outDim);
      }
    }
    return out;
  }

  @Override
  public synchronized void close() {
    manager.close();
  }
}
