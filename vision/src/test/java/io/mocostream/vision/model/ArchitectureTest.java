package io.mocostream.vision.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ArchitectureTest {

  @Test
  void namesGiveThePublishedDefaults() {
    Architecture cifar = Architecture.parse("resnet18-cifar");
    assertEquals(new Architecture("resnet18-cifar", 64, "mlp", 128, 3, 32), cifar);
    assertEquals(512, cifar.featureDim());
    assertEquals(
        new Architecture("resnet18-narrow", 16, "mlp", 128, 3, 32),
        Architecture.parse("resnet18-narrow"));
    Architecture r50 = Architecture.parse("resnet50");
    assertEquals(224, r50.inputSize());
    assertEquals(2048, r50.featureDim());
  }

  @Test
  void textFormRoundTrips() {
    Architecture a =
        Architecture.parse(" resnet18-narrow, width=32 ,head=linear,dim=64,channels=1,size=28");
    assertEquals(new Architecture("resnet18-narrow", 32, "linear", 64, 1, 28), a);
    assertEquals(a, Architecture.parse(a.toString()));
    assertEquals(a, Architecture.fromAvro(a.toAvro()));
    assertEquals(256, a.toAvro().getFeatureDim());
  }

  @Test
  void badTextIsRefusedNamingTheProblem() {
    assertMessage("resnet34", "backbone 'resnet34'");
    assertMessage("resnet18-cifar,depth=3", "unknown key 'depth'");
    assertMessage("resnet18-cifar,width=abc", "width='abc'");
    assertMessage("resnet18-cifar,size=128", "inputSize 128");
    assertMessage("resnet18-cifar,channels=4", "channels 4");
    assertMessage("resnet18-cifar,head=transformer", "head 'transformer'");
    assertMessage("resnet18-cifar,width", "'width' is not key=value");
  }

  private static void assertMessage(String text, String expected) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Architecture.parse(text));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
