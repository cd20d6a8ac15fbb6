package io.mocostream.vision.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.DecodedImage;
import io.mocostream.vision.augment.ViewParams.JitterOp;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AugmenterTest {

  private static final float[] ONE = {1f};
  private static final float[] ZERO = {0f};
  private static final float[] ZEROS3 = {0f, 0f, 0f};
  private static final float[] ONES3 = {1f, 1f, 1f};

  /** RGB image with distinct, position-dependent colours. */
  static DecodedImage rgb(int w, int h) {
    byte[] px = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        px[i] = (byte) (x * 255 / Math.max(1, w - 1));
        px[i + 1] = (byte) (y * 255 / Math.max(1, h - 1));
        px[i + 2] = (byte) ((x * 37 + y * 91) % 256);
      }
    }
    return new DecodedImage(w, h, 3, px);
  }

  static DecodedImage grey(int w, int h) {
    byte[] px = new byte[w * h];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) ((i * 13 + (i / w) * 7) % 256);
    }
    return new DecodedImage(w, h, 1, px);
  }

  /**
   * A config that does nothing random: whole-image crop, no colour, no blur, flip with probability
   * flipP.
   */
  private static AugmentConfig identity(int size, int channels, double flipP) {
    float[] mean = channels == 3 ? ZEROS3 : ZERO;
    float[] std = channels == 3 ? ONES3 : ONE;
    return new AugmentConfig(
        size, channels, 1.0, 1.0, 1.0, 1.0, 0.0, 0, 0, 0, 0, 0.0, false, 0.0, 0.1, 2.0, 0.1, flipP,
        mean, std);
  }

  private static float[] twoViews(
      Augmenter a, DecodedImage img, long seed, int partition, long offset) {
    int n = a.viewLength();
    float[] q = new float[n];
    float[] k = new float[n];
    a.twoViews(img, seed, partition, offset, q, 0, k, 0);
    float[] both = Arrays.copyOf(q, 2 * n);
    System.arraycopy(k, 0, both, n, n);
    return both;
  }

  @Test
  void sameRecordGivesIdenticalViewsDifferentPositionsDiffer() {
    DecodedImage img = rgb(48, 40);
    Augmenter a = new Augmenter(AugmentConfig.mocoV2(32, 3));
    Augmenter b = new Augmenter(AugmentConfig.mocoV2(32, 3));
    float[] v = twoViews(a, img, 7, 2, 1000);
    assertArrayEquals(v, twoViews(b, img, 7, 2, 1000));
    assertFalse(Arrays.equals(v, twoViews(a, img, 7, 2, 1001)), "another offset");
    assertFalse(Arrays.equals(v, twoViews(a, img, 7, 3, 1000)), "another partition");
    assertFalse(Arrays.equals(v, twoViews(a, img, 8, 2, 1000)), "another seed");
    int n = a.viewLength();
    assertFalse(
        Arrays.equals(Arrays.copyOf(v, n), Arrays.copyOfRange(v, n, 2 * n)), "query ≠ key view");
    assertEquals(a.draw(48, 40, 7, 2, 1000, 1), b.draw(48, 40, 7, 2, 1000, 1));
  }

  @Test
  void writesExactlyOneViewAtTheOffsetWithinTheNormalisedRange() {
    AugmentConfig cfg = AugmentConfig.mocoV2(16, 3);
    Augmenter a = new Augmenter(cfg);
    int n = cfg.viewLength();
    assertEquals(3 * 16 * 16, n);
    float[] out = new float[3 * n];
    Arrays.fill(out, Float.NaN);
    for (long offset = 0; offset < 50; offset++) {
      a.view(rgb(30, 20), 1, 0, offset, 0, out, n);
      for (int i = 0; i < n; i++) {
        assertTrue(Float.isNaN(out[i]) && Float.isNaN(out[2 * n + i]), "wrote outside its slot");
      }
      for (int c = 0; c < 3; c++) {
        float lo = (0 - AugmentConfig.IMAGENET_MEAN[c]) / AugmentConfig.IMAGENET_STD[c] - 1e-5f;
        float hi = (1 - AugmentConfig.IMAGENET_MEAN[c]) / AugmentConfig.IMAGENET_STD[c] + 1e-5f;
        for (int i = c * 256; i < (c + 1) * 256; i++) {
          float x = out[n + i];
          assertTrue(
              x >= lo && x <= hi,
              "channel " + c + " value " + x + " outside [" + lo + ", " + hi + "]");
        }
      }
    }
    assertThrows(
        IndexOutOfBoundsException.class, () -> a.view(rgb(30, 20), 1, 0, 0, 0, out, 2 * n + 1));
  }

  @Test
  void identityConfigReproducesPixelsAndFlipMirrorsThem() {
    DecodedImage img = rgb(12, 12);
    float[] plain = new float[3 * 144];
    new Augmenter(identity(12, 3, 0.0)).view(img, 1, 0, 0, 0, plain, 0);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 12; y++) {
        for (int x = 0; x < 12; x++) {
          assertEquals(img.sample(x, y, c) / 255f, plain[c * 144 + y * 12 + x], 1e-6f);
        }
      }
    }
    float[] centre = new float[3 * 144];
    new Augmenter(identity(12, 3, 0.0)).center(img, centre, 0);
    assertArrayEquals(plain, centre);

    float[] flipped = new float[3 * 144];
    new Augmenter(identity(12, 3, 1.0)).view(img, 1, 0, 0, 0, flipped, 0);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 12; y++) {
        for (int x = 0; x < 12; x++) {
          assertEquals(plain[c * 144 + y * 12 + (11 - x)], flipped[c * 144 + y * 12 + x]);
        }
      }
    }
  }

  @Test
  void probabilitiesMatchTheRecipe() {
    Augmenter a = new Augmenter(AugmentConfig.mocoV2(32, 3));
    int draws = 4000;
    int gray = 0;
    int jitter = 0;
    int blur = 0;
    int flip = 0;
    for (int i = 0; i < draws; i++) {
      ViewParams p = a.draw(64, 48, 11, 0, i, i % 2);
      gray += p.grayscale() ? 1 : 0;
      jitter += p.jitter() ? 1 : 0;
      flip += p.flip() ? 1 : 0;
      if (p.blurSigma() > 0) {
        blur++;
        assertTrue(p.blurSigma() >= 0.1f && p.blurSigma() <= 2f, "sigma " + p.blurSigma());
      }
      assertTrue(p.brightness() >= 0.6f && p.brightness() <= 1.4f);
      assertTrue(p.hue() >= -0.1f && p.hue() <= 0.1f);
      assertEquals(4, p.jitterOrder().stream().distinct().count());
    }
    // Binomial: 4 standard deviations at most ≈ 0.025 for p = 0.5, n = 4000.
    assertEquals(0.2, gray / (double) draws, 0.03, "grayscale");
    assertEquals(0.8, jitter / (double) draws, 0.03, "jitter");
    assertEquals(0.5, blur / (double) draws, 0.035, "blur");
    assertEquals(0.5, flip / (double) draws, 0.035, "flip");
    ViewParams v1 = new Augmenter(AugmentConfig.mocoV1(32, 3)).draw(64, 48, 11, 0, 5, 0);
    assertTrue(v1.jitter() && v1.blurSigma() == 0f, "v1: jitter always, never blur");
  }

  @Test
  void cropScaleAndRatioStayInTheirRanges() {
    Augmenter a = new Augmenter(AugmentConfig.mocoV2(32, 3));
    int w = 120;
    int h = 90;
    double sum = 0;
    double min = 1;
    int draws = 5000;
    for (int i = 0; i < draws; i++) {
      ViewParams p = a.draw(w, h, 3, 1, i, 0);
      double area = p.cropAreaFraction(w, h);
      // Rounding w and h to whole pixels moves the area by at most about one row and one column.
      double slack = (double) (p.cropW() + p.cropH() + 1) / (w * h);
      assertTrue(area >= 0.2 - slack && area <= 1.0, "area fraction " + area);
      double ratio = (double) p.cropW() / p.cropH();
      assertTrue(ratio >= 0.75 * 0.95 && ratio <= 4.0 / 3 * 1.05, "ratio " + ratio);
      assertTrue(
          p.cropX() >= 0
              && p.cropX() + p.cropW() <= w
              && p.cropY() >= 0
              && p.cropY() + p.cropH() <= h);
      sum += area;
      min = Math.min(min, area);
    }
    // Uniform on [0.2, 1] has mean 0.6; draws that do not fit (wide crops of large area) are
    // retried,
    // which pulls the mean down a little.
    assertTrue(sum / draws > 0.5 && sum / draws < 0.62, "mean area fraction " + sum / draws);
    assertTrue(min < 0.22, "smallest area fraction " + min);
  }

  @Test
  void grayscaleEqualisesChannelsAndGreyInputIgnoresChroma() {
    DecodedImage img = rgb(20, 20);
    AugmentConfig id = identity(20, 3, 0.0);
    Augmenter a = new Augmenter(id);
    ViewParams none = a.draw(20, 20, 0, 0, 0, 0);
    ViewParams gray =
        new ViewParams(0, 0, 20, 20, false, List.of(JitterOp.values()), 1, 1, 1, 0, true, 0, false);
    float[] out = new float[a.viewLength()];
    a.apply(img, gray, out, 0);
    for (int i = 0; i < 400; i++) {
      assertEquals(out[i], out[400 + i]);
      assertEquals(out[i], out[800 + i]);
      float expected =
          0.299f * img.sample(i % 20, i / 20, 0) / 255f
              + 0.587f * img.sample(i % 20, i / 20, 1) / 255f
              + 0.114f * img.sample(i % 20, i / 20, 2) / 255f;
      assertEquals(expected, out[i], 1e-5f);
    }
    assertFalse(none.grayscale());

    // Grey input, grey output: saturation, hue and grayscale change nothing; brightness does.
    Augmenter g = new Augmenter(identity(20, 1, 0.0));
    DecodedImage gi = grey(20, 20);
    float[] base = new float[400];
    g.apply(gi, none, base, 0);
    float[] chroma = new float[400];
    g.apply(
        gi,
        new ViewParams(
            0,
            0,
            20,
            20,
            true,
            List.of(JitterOp.SATURATION, JitterOp.HUE, JitterOp.BRIGHTNESS, JitterOp.CONTRAST),
            1,
            1,
            0.1f,
            0.3f,
            true,
            0,
            false),
        chroma,
        0);
    assertArrayEquals(base, chroma);
    float[] darker = new float[400];
    g.apply(
        gi,
        new ViewParams(
            0, 0, 20, 20, true, List.of(JitterOp.values()), 0.5f, 1, 1, 0, false, 0, false),
        darker,
        0);
    for (int i = 0; i < 400; i++) {
      assertEquals(base[i] * 0.5f, darker[i], 1e-6f);
    }
  }

  @Test
  void hueRotatesPrimariesAndContrastKeepsTheMean() {
    byte[] red = new byte[4 * 4 * 3];
    for (int i = 0; i < 16; i++) {
      red[3 * i] = (byte) 255;
    }
    Augmenter a = new Augmenter(identity(4, 3, 0.0));
    float[] out = new float[a.viewLength()];
    a.apply(
        new DecodedImage(4, 4, 3, red),
        new ViewParams(
            0, 0, 4, 4, true, List.of(JitterOp.values()), 1, 1, 1, 1f / 3, false, 0, false),
        out,
        0);
    for (int i = 0; i < 16; i++) {
      assertEquals(0f, out[i], 1e-5f); // red → green after a third of a turn
      assertEquals(1f, out[16 + i], 1e-5f);
      assertEquals(0f, out[32 + i], 1e-5f);
    }

    Augmenter g = new Augmenter(identity(20, 1, 0.0));
    DecodedImage gi = grey(20, 20);
    float[] base = new float[400];
    g.center(gi, base, 0);
    float[] flat = new float[400];
    g.apply(
        gi,
        new ViewParams(
            0, 0, 20, 20, true, List.of(JitterOp.values()), 1, 0f, 1, 0, false, 0, false),
        flat,
        0);
    double mean = 0;
    for (float x : base) {
      mean += x / 400;
    }
    for (float x : flat) {
      assertEquals(mean, x, 1e-5, "contrast 0 gives the mean grey everywhere");
    }
  }

  @Test
  void downscalingAveragesInsteadOfAliasing() {
    // A one-pixel checkerboard 640×640: point-sampled to 32×32 it would be all 0 or all 1.
    byte[] px = new byte[640 * 640];
    for (int y = 0; y < 640; y++) {
      for (int x = 0; x < 640; x++) {
        px[y * 640 + x] = (byte) (((x + y) & 1) == 0 ? 255 : 0);
      }
    }
    float[] out = new float[32 * 32];
    new Augmenter(identity(32, 1, 0.0)).center(new DecodedImage(640, 640, 1, px), out, 0);
    for (float x : out) {
      assertEquals(0.5f, x, 0.01f);
    }
  }

  @Test
  void blurKeepsFlatImagesAndSmoothsEdges() {
    byte[] px = new byte[16 * 16];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) ((i % 16) < 8 ? 0 : 255); // vertical edge
    }
    DecodedImage edge = new DecodedImage(16, 16, 1, px);
    AugmentConfig cfg =
        new AugmentConfig(16, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, false, 1, 0.1, 2, 0.3, 0, ZERO, ONE);
    assertEquals(5, cfg.blurKernelSize());
    Augmenter a = new Augmenter(cfg);
    float[] out = new float[256];
    a.apply(
        edge,
        new ViewParams(
            0, 0, 16, 16, false, List.of(JitterOp.values()), 1, 1, 1, 0, false, 2f, false),
        out,
        0);
    assertTrue(
        out[7] > 0.1f && out[7] < 0.5f && out[8] > 0.5f && out[8] < 0.9f, out[7] + " " + out[8]);
    assertEquals(0f, out[0], 1e-6f);
    assertEquals(1f, out[15], 1e-6f);
    byte[] flat = new byte[256];
    Arrays.fill(flat, (byte) 100);
    a.apply(
        new DecodedImage(16, 16, 1, flat),
        new ViewParams(
            0, 0, 16, 16, false, List.of(JitterOp.values()), 1, 1, 1, 0, false, 1.5f, false),
        out,
        0);
    for (float x : out) {
      assertEquals(100 / 255f, x, 1e-6f);
    }
  }

  @Test
  void convertsChannelCounts() {
    DecodedImage g = grey(10, 10);
    float[] three = new float[300];
    new Augmenter(identity(10, 3, 0)).center(g, three, 0);
    for (int i = 0; i < 100; i++) {
      assertEquals(g.pixels()[i] & 0xFF, three[i] * 255f, 1e-3f);
      assertEquals(three[i], three[100 + i]);
      assertEquals(three[i], three[200 + i]);
    }
    DecodedImage c = rgb(10, 10);
    float[] one = new float[100];
    new Augmenter(identity(10, 1, 0)).center(c, one, 0);
    assertEquals(
        (0.299f * c.sample(3, 4, 0) + 0.587f * c.sample(3, 4, 1) + 0.114f * c.sample(3, 4, 2))
            / 255f,
        one[43],
        1e-5f);
  }

  @Test
  void configRejectsNonsense() {
    assertThrows(IllegalArgumentException.class, () -> AugmentConfig.mocoV2(32, 2));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            AugmentConfig.mocoV2(32, 3).withNormalization(new float[] {0.5f}, new float[] {0.5f}));
    assertThrows(IllegalArgumentException.class, () -> AugmentConfig.mocoV2(32, 1).withBlurP(1.5));
    assertThrows(
        IllegalArgumentException.class, () -> AugmentConfig.mocoV2(32, 1).withCropScale(0, 1));
    assertEquals(AugmentConfig.mocoV2(32, 1), AugmentConfig.mocoV2(32, 1));
    assertEquals(3, AugmentConfig.mocoV2(32, 1).blurKernelSize());
    assertEquals(23, AugmentConfig.mocoV2(224, 3).blurKernelSize());
  }
}
