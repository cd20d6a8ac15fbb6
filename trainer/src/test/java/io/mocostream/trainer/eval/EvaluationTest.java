package io.mocostream.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.SequentialBlock;
import io.mocostream.trainer.data.Datasets;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluationTest {

  private static final Architecture ARCH = Architecture.resnet18Narrow(1, 28);

  private static byte[] randomWeights(long seed) throws IOException {
    SequentialBlock backbone = io.mocostream.vision.model.Encoders.backbone(ARCH);
    SequentialBlock head = io.mocostream.vision.model.Encoders.head(ARCH);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (NDManager m = NDManager.newBaseManager();
        DataOutputStream out = new DataOutputStream(bytes)) {
      io.mocostream.vision.model.Encoders.initialize(backbone, head, ARCH, m, seed);
      backbone.saveParameters(out);
    }
    return bytes.toByteArray();
  }

  @Test
  void encoderFileRoundTripsAndRejectsDamage(@TempDir Path dir) throws IOException {
    byte[] weights = randomWeights(3);
    Path f = dir.resolve("enc.bin");
    new EncoderFile(ARCH, weights).write(f);
    EncoderFile back = EncoderFile.read(f);
    assertEquals(ARCH, back.architecture());
    assertArrayEquals(weights, back.weights());

    byte[] all = Files.readAllBytes(f);
    Path cut = dir.resolve("cut.bin");
    Files.write(cut, Arrays.copyOf(all, all.length - 5));
    IOException e = assertThrows(IOException.class, () -> EncoderFile.read(cut));
    assertTrue(
        e.getMessage().contains("cut.bin") && e.getMessage().contains("truncated"), e.getMessage());
    Path other = dir.resolve("other.bin");
    Files.writeString(other, "hello world, not an encoder");
    assertTrue(
        assertThrows(IOException.class, () -> EncoderFile.read(other))
            .getMessage()
            .contains("magic"));
  }

  @Test
  void evaluatesAFileAgainstRawPixelsAndRandomInit(@TempDir Path dir) throws IOException {
    // The probe from IDX files on disk (the shipped mini set written out), as `eval --idx
    // --train-idx` reads it.
    Datasets.Splits mini = Datasets.fashionMnistMini();
    mini.train().write(dir.resolve("train-img.gz"), dir.resolve("train-lab.gz"));
    mini.test().write(dir.resolve("test-img.gz"), dir.resolve("test-lab.gz"));
    Path model = dir.resolve("model.enc");
    new EncoderFile(ARCH, randomWeights(11)).write(model);

    Evaluation.Options options =
        Evaluation.Options.defaults(model)
            .withIdx(dir.resolve("test-img.gz"), dir.resolve("test-lab.gz"))
            .withBankIdx(dir.resolve("train-img.gz"), dir.resolve("train-lab.gz"))
            .withSizes(600, 200)
            .withRandomInitSeed(11);
    Evaluation.Result same = Evaluation.run(options);
    assertEquals(600, same.bankSize());
    assertEquals(200, same.querySize());
    // The file holds exactly the random init of seed 11: both scores must agree to the last bit.
    assertEquals(same.randomInit(), same.knnTop1());
    // Raw-pixel kNN on Fashion-MNIST is far above chance (0.1).
    assertTrue(same.rawPixels() > 0.6 && same.rawPixels() < 1, same.summaryLine());
    String line = same.summaryLine();
    assertTrue(
        line.matches("knn_top1=\\d\\.\\d{4} raw_pixels=\\d\\.\\d{4} random_init=\\d\\.\\d{4}"),
        line);
    String[] lines = same.report().split("\\R");
    assertEquals(line, lines[lines.length - 1]);

    Evaluation.Result other = Evaluation.run(options.withRandomInitSeed(12));
    assertEquals(same.knnTop1(), other.knnTop1());
    assertEquals(same.rawPixels(), other.rawPixels());
    assertNotEquals(same.randomInit(), other.randomInit(), "another seed is another network");

    // --idx alone: one set split into disjoint bank and queries.
    try (Encoder enc = Encoder.load(ARCH, randomWeights(11))) {
      Evaluation.Result split =
          Evaluation.run(
              enc,
              Evaluation.Options.defaults(null)
                  .withIdx(dir.resolve("test-img.gz"), dir.resolve("test-lab.gz"))
                  .withSizes(10_000, 100));
      assertEquals(400, split.bankSize());
      assertEquals(100, split.querySize());
    }
  }

  @Test
  void optionsRefuseHalfSpecifiedSets() {
    Evaluation.Options d = Evaluation.Options.defaults(Path.of("m"));
    assertThrows(IllegalArgumentException.class, () -> d.withIdx(Path.of("a"), null));
    assertThrows(IllegalArgumentException.class, () -> d.withBankIdx(Path.of("a"), Path.of("b")));
    assertThrows(IllegalArgumentException.class, () -> d.withSizes(0, 10));
    assertArrayEquals(
        new Path[] {Path.of("a.gz"), Path.of("b.gz")},
        Evaluation.parseIdxPair("--idx", "a.gz, b.gz"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Evaluation.parseIdxPair("--train-idx", "only-one.gz"));
    assertTrue(
        e.getMessage().contains("--train-idx") && e.getMessage().contains("only-one.gz"),
        e.getMessage());
  }
}
