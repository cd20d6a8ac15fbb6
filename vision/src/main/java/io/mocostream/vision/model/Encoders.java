package io.mocostream.vision.model;

import ai.djl.basicmodelzoo.cv.classification.ResNetV1;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.util.Pair;
import java.util.SplittableRandom;

/**
 * Builds and initialises the blocks of an {@link Architecture}: a ResNet backbone (N×C×S×S → N×F
 * pooled features) and a projection head (N×F → N×D, not yet normalised: MoCo normalises in the
 * loss code, as {@code moco/builder.py} does).
 *
 * <p>ResNet-18 is assembled from DJL's {@link ResNetV1#residualUnit}: DJL's own {@code
 * ResNetV1.builder()} switches to bottleneck units above 28 px and is then not a ResNet-18 (0.89 M
 * parameters). With a 3×3 stem, no max-pool and stages [2,2,2,2] the trunk has exactly
 * torchvision's 11,168,832 trainable parameters for RGB input.
 */
public final class Encoders {

  /**
   * DJL's BatchNorm momentum is the weight of the running value: 0.9 here is PyTorch's momentum
   * 0.1.
   */
  public static final float BN_MOMENTUM = 0.9f;

  private Encoders() {}

  /** The backbone: N×C×S×S → N×F with F = {@link Architecture#featureDim()}. Not initialised. */
  public static SequentialBlock backbone(Architecture arch) {
    return arch.backbone().equals(Architecture.RESNET50)
        ? resnet50(arch.width())
        : resnet18(arch.width());
  }

  /**
   * The projection head: N×F → N×D (v2: Linear F→F, ReLU, Linear F→D; v1: Linear F→D). Not
   * initialised.
   */
  public static SequentialBlock head(Architecture arch) {
    SequentialBlock head = new SequentialBlock();
    if (arch.head().equals(Architecture.HEAD_MLP)) {
      head.add(Linear.builder().setUnits(arch.featureDim()).build()).add(Activation.reluBlock());
    }
    return head.add(Linear.builder().setUnits(arch.embeddingDim()).build());
  }

  // torchvision's resnet18 with conv1 = 3×3 stride 1 and no max-pool (the CIFAR variant MoCo's demo
  // uses).
  private static SequentialBlock resnet18(int width) {
    SequentialBlock net =
        new SequentialBlock()
            .add(conv(width, 3, 1, 1))
            .add(BatchNorm.builder().optEpsilon(1e-5f).optMomentum(BN_MOMENTUM).build())
            .add(Activation.reluBlock());
    int[] filters = {width, 2 * width, 4 * width, 8 * width};
    for (int stage = 0; stage < 4; stage++) {
      int stride = stage == 0 ? 1 : 2;
      // stage 1 keeps width and resolution: identity shortcut (dimMatch), as torchvision's layer1
      net.add(
          ResNetV1.residualUnit(
              filters[stage], new Shape(stride, stride), stage == 0, false, BN_MOMENTUM));
      net.add(ResNetV1.residualUnit(filters[stage], new Shape(1, 1), true, false, BN_MOMENTUM));
    }
    return net.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
  }

  // ImageNet ResNet-50: 7×7/2 stem + 3×3/2 max-pool, bottleneck stages [3,4,6,3]. DJL's bottleneck
  // unit is the
  // original v1 (stride on the first 1×1, biases on the 1×1 convolutions), not torchvision's v1.5.
  private static SequentialBlock resnet50(int width) {
    SequentialBlock net =
        new SequentialBlock()
            .add(conv(width, 7, 2, 3))
            .add(BatchNorm.builder().optEpsilon(2e-5f).optMomentum(BN_MOMENTUM).build())
            .add(Activation.reluBlock())
            .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1)));
    int[] units = {3, 4, 6, 3};
    for (int stage = 0; stage < 4; stage++) {
      int filters = 4 * width << stage;
      int stride = stage == 0 ? 1 : 2;
      net.add(ResNetV1.residualUnit(filters, new Shape(stride, stride), false, true, BN_MOMENTUM));
      for (int u = 1; u < units[stage]; u++) {
        net.add(ResNetV1.residualUnit(filters, new Shape(1, 1), true, true, BN_MOMENTUM));
      }
    }
    return net.add(Pool.globalAvgPool2dBlock()).add(Blocks.batchFlattenBlock());
  }

  private static Conv2d conv(int filters, int kernel, int stride, int pad) {
    return Conv2d.builder()
        .setKernelShape(new Shape(kernel, kernel))
        .setFilters(filters)
        .optStride(new Shape(stride, stride))
        .optPadding(new Shape(pad, pad))
        .optBias(false)
        .build();
  }

  /** Input shape for a batch of {@code n} images: n×C×S×S. */
  public static Shape inputShape(Architecture arch, long n) {
    return new Shape(n, arch.channels(), arch.inputSize(), arch.inputSize());
  }

  /**
   * Creates the backbone's and head's arrays in {@code manager} and fills them the way torchvision
   * and PyTorch do (what MoCo trains from), from {@code seed} alone: convolutions Kaiming-normal
   * (fan-out, ReLU gain); linear layers and convolution biases uniform ±1/√fan-in; BatchNorm γ = 1,
   * β = 0, running mean 0, running variance 1.
   *
   * <p>Drawn in Java from a {@link SplittableRandom} rather than by DJL's initialisers, so that the
   * weights depend on the seed and nothing else (not on the engine's global generator, nor on what
   * else ran before).
   */
  public static void initialize(
      Block backbone, Block head, Architecture arch, NDManager manager, long seed) {
    backbone.initialize(manager, DataType.FLOAT32, inputShape(arch, 1));
    head.initialize(manager, DataType.FLOAT32, new Shape(1, arch.featureDim()));
    SplittableRandom random = new SplittableRandom(seed);
    fill(backbone, random);
    fill(head, random);
  }

  private static void fill(Block block, SplittableRandom random) {
    for (Pair<String, Parameter> pair : block.getParameters()) {
      Parameter parameter = pair.getValue();
      NDArray array = parameter.getArray();
      Shape shape = array.getShape();
      float[] values = new float[Math.toIntExact(shape.size())];
      switch (parameter.getType()) {
        case WEIGHT -> {
          if (shape.dimension() == 4) { // conv: out×in×kh×kw, fan-out = out·kh·kw
            double std = Math.sqrt(2.0 / (shape.get(0) * shape.get(2) * shape.get(3)));
            for (int i = 0; i < values.length; i++) {
              values[i] = (float) (std * gaussian(random));
            }
          } else { // linear: out×in, PyTorch's kaiming_uniform(a=√5) = U(±1/√in)
            uniform(values, 1.0 / Math.sqrt(shape.get(1)), random);
          }
        }
        case BIAS -> uniform(values, 1.0 / Math.sqrt(fanIn(block, parameter)), random);
        case GAMMA, RUNNING_VAR -> java.util.Arrays.fill(values, 1f);
        case BETA, RUNNING_MEAN -> java.util.Arrays.fill(values, 0f);
        default ->
            throw new IllegalStateException(
                "parameter "
                    + parameter.getName()
                    + " of type "
                    + parameter.getType()
                    + " has no initialisation rule");
      }
      copyInto(array, values);
    }
  }

  // A bias's fan-in is that of the weight beside it (same block, listed just before it).
  private static long fanIn(Block block, Parameter bias) {
    Parameter previous = null;
    for (Pair<String, Parameter> pair : block.getParameters()) {
      if (pair.getValue() == bias) {
        break;
      }
      previous = pair.getValue();
    }
    if (previous == null || previous.getType() != Parameter.Type.WEIGHT) {
      throw new IllegalStateException("bias " + bias.getName() + " has no weight before it");
    }
    Shape w = previous.getArray().getShape();
    return w.size() / w.get(0);
  }

  private static void uniform(float[] values, double bound, SplittableRandom random) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
  }

  // Box–Muller with StrictMath: the same numbers on every JVM (RandomGenerator.nextGaussian's
  // algorithm is not
  // specified across JDK versions).
  private static double gaussian(SplittableRandom random) {
    double u1 = 1.0 - random.nextDouble(); // (0, 1]
    double u2 = random.nextDouble();
    return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
  }

  /** Copies {@code values} into {@code dst}'s storage in place (same array object, same shape). */
  public static void copyInto(NDArray dst, float[] values) {
    try (NDManager scope = dst.getManager().newSubManager()) {
      NDArray src = scope.create(values, dst.getShape()).toDevice(dst.getDevice(), false);
      dst.set(new NDIndex("..."), src);
    }
  }

  /**
   * Trainable parameter count (weights, biases, γ, β; not BatchNorm running statistics), as
   * PyTorch's {@code sum(p.numel() for p in model.parameters())} counts it.
   */
  public static long trainableParameters(Block block) {
    long count = 0;
    for (Pair<String, Parameter> pair : block.getParameters()) {
      if (pair.getValue().requiresGradient()) {
        count += pair.getValue().getArray().getShape().size();
      }
    }
    return count;
  }

  /**
   * Multiply-accumulates of one forward pass for ONE image, counted by walking the initialised
   * block: each convolution costs H_out·W_out·(its weight's element count), each linear layer its
   * weight's element count. BatchNorm, ReLU, pooling and additions are not counted (the usual
   * convention; they are &lt;1 %).
   */
  public static long forwardMacs(Block block, Shape inputOfOne) {
    long macs = 0;
    if (block instanceof Conv2d) {
      Shape out = block.getOutputShapes(new Shape[] {inputOfOne})[0];
      Shape w = block.getParameters().get("weight").getArray().getShape();
      return out.get(2) * out.get(3) * w.size();
    }
    if (block instanceof Linear) {
      return block.getParameters().get("weight").getArray().getShape().size();
    }
    if (block instanceof SequentialBlock) {
      Shape shape = inputOfOne;
      for (Pair<String, Block> child : block.getChildren()) {
        macs += forwardMacs(child.getValue(), shape);
        shape = child.getValue().getOutputShapes(new Shape[] {shape})[0];
      }
      return macs;
    }
    // ParallelBlock (residual unit: main path + shortcut) and anything else: children see the same
    // input
    for (Pair<String, Block> child : block.getChildren()) {
      macs += forwardMacs(child.getValue(), inputOfOne);
    }
    return macs;
  }
}
