package io.mocostream.vision.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import org.junit.jupiter.api.Test;

class EncodersTest {

  @Test
  void cifarResNet18HasTorchvisionsTrunkParameterCount() {
    assertEquals(11_168_832L, trunkParameters(Architecture.parse("resnet18-cifar")));
    // grey input: the stem loses 2 of 3 input channels, 2·64·3·3 weights
    assertEquals(
        11_168_832L - 2 * 64 * 9, trunkParameters(Architecture.parse("resnet18-cifar,channels=1")));
  }

  @Test
  void resNet50HasTheBottleneckStructure() {
    // torchvision's ResNet-50 trunk has 23,508,032 trainable parameters; DJL's v1 bottleneck adds a
    // bias to
    // each of the two 1×1 convolutions of the 16 units: 16·(width + 4·width) per stage summed over
    // stages.
    long biases = 0;
    int[] units = {3, 4, 6, 3};
    for (int stage = 0; stage < 4; stage++) {
      int inner = 64 << stage;
      biases += units[stage] * (inner + 4L * inner);
    }
    assertEquals(23_508_032L + biases, trunkParameters(Architecture.parse("resnet50")));
  }

  @Test
  void macsAreCountedFromTheBlocks() {
    Architecture arch = Architecture.parse("resnet18-cifar");
    try (NDManager manager = NDManager.newBaseManager()) {
      Block backbone = Encoders.backbone(arch);
      Block head = Encoders.head(arch);
      Encoders.initialize(backbone, head, arch, manager, 1);
      // analytic: stem 32²·64·3·9, then per stage (two units of two 3×3 convs, plus a 1×1
      // projection)
      long expected = 32L * 32 * 64 * 3 * 9;
      int size = 32;
      int in = 64;
      for (int stage = 0; stage < 4; stage++) {
        int out = 64 << stage;
        if (stage > 0) {
          size /= 2;
          expected += (long) size * size * out * in; // 1×1 projection
        }
        long pixels = (long) size * size;
        expected +=
            pixels * out * in * 9 + 3 * pixels * out * out * 9; // first conv, then three more
        in = out;
      }
      assertEquals(expected, Encoders.forwardMacs(backbone, new Shape(1, 3, 32, 32)));
      long headMacs = Encoders.forwardMacs(head, new Shape(1, 512));
      assertEquals(512L * 512 + 512L * 128, headMacs);
      assertEquals(
          555_745_280L, expected + headMacs, "555.7 M MACs per 32×32 image for trunk + MLP head");
    }
  }

  private static long trunkParameters(Architecture arch) {
    try (NDManager manager = NDManager.newBaseManager()) {
      Block backbone = Encoders.backbone(arch);
      backbone.initialize(
          manager, ai.djl.ndarray.types.DataType.FLOAT32, Encoders.inputShape(arch, 1));
      return Encoders.trainableParameters(backbone);
    }
  }
}
