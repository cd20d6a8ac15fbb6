package io.mocostream.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.DecodedImage;
import java.awt.Image;
import java.awt.image.AreaAveragingScaleFilter;
import java.awt.image.BufferedImage;
import java.awt.image.FilteredImageSource;
import java.awt.image.PixelGrabber;
import org.junit.jupiter.api.Test;

class AreaResizeTest {
  @Test
  void matchesTheJdkAreaAveragingFilterWithinOneLevel() throws Exception {
    BufferedImage scene = SyntheticScenes.scene(640, 480, 7);
    DecodedImage ours = AreaResize.resize(SyntheticScenes.pixels(scene), 85, 64);
    // The JDK's AreaAveragingScaleFilter, through its producer/consumer pipeline (float
    // arithmetic).
    Image scaled =
        java.awt.Toolkit.getDefaultToolkit()
            .createImage(
                new FilteredImageSource(scene.getSource(), new AreaAveragingScaleFilter(85, 64)));
    int[] argb = new int[85 * 64];
    PixelGrabber grabber = new PixelGrabber(scaled, 0, 0, 85, 64, argb, 0, 85);
    assertTrue(grabber.grabPixels(10_000));
    int worst = 0;
    for (int i = 0; i < argb.length; i++) {
      for (int c = 0; c < 3; c++) {
        int theirs = (argb[i] >> (16 - 8 * c)) & 0xFF;
        worst = Math.max(worst, Math.abs(theirs - (ours.pixels()[i * 3 + c] & 0xFF)));
      }
    }
    assertTrue(worst <= 1, "largest difference from AreaAveragingScaleFilter: " + worst);
  }

  @Test
  void averagesExactlyAndKeepsGreyOneChannel() {
    // 4×2 grey → 2×1: each output pixel is the mean of a 2×2 block, rounded.
    DecodedImage img =
        new DecodedImage(4, 2, 1, new byte[] {0, 10, 100, (byte) 200, 20, 30, 100, (byte) 201});
    DecodedImage out = AreaResize.resize(img, 2, 1);
    assertEquals(1, out.channels());
    assertArrayEquals(
        new byte[] {15, (byte) 150}, out.pixels()); // (0+10+20+30)/4, (100+200+100+201)/4 = 150.25
    // 3 → 2 columns: fractional coverage, weights 2:1 and 1:2.
    DecodedImage row = new DecodedImage(3, 1, 1, new byte[] {0, 90, (byte) 180});
    assertArrayEquals(new byte[] {30, (byte) 150}, AreaResize.resize(row, 2, 1).pixels());
  }

  @Test
  void equalsTheDefinitionPixelForPixelDownAndUp() {
    // Every output pixel is round(Σ pixel × column overlap × row overlap / (sw·sh)): checked term
    // by term on random
    // images, sizes and channel counts, including upscaling and sizes that divide evenly.
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
    for (int run = 0; run < 300; run++) {
      int sw = 1 + rnd.nextInt(40);
      int sh = 1 + rnd.nextInt(40);
      int c = rnd.nextBoolean() ? 1 : 3;
      int w = 1 + rnd.nextInt(run % 3 == 0 ? 50 : 12);
      int h = 1 + rnd.nextInt(run % 3 == 0 ? 50 : 12);
      byte[] px = new byte[sw * sh * c];
      for (int i = 0; i < px.length; i++) {
        px[i] = (byte) rnd.nextInt(256);
      }
      byte[] ours = AreaResize.resize(new DecodedImage(sw, sh, c, px), w, h).pixels();
      long total = (long) sw * sh;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          for (int k = 0; k < c; k++) {
            long sum = 0;
            for (int j = 0; j < sh; j++) {
              long wy = overlap(j, h, y, sh);
              for (int i = 0; wy > 0 && i < sw; i++) {
                sum += (px[(j * sw + i) * c + k] & 0xFF) * wy * overlap(i, w, x, sw);
              }
            }
            int expected = (int) ((sum + total / 2) / total);
            assertEquals(
                expected,
                ours[(y * w + x) * c + k] & 0xFF,
                sw + "x" + sh + "x" + c + " -> " + w + "x" + h + " at " + x + "," + y + "," + k);
          }
        }
      }
    }
  }

  /**
   * Overlap of source cell {@code i} (cells {@code d} units wide) and output cell {@code x} ({@code
   * n} wide).
   */
  private static long overlap(int i, int d, int x, int n) {
    return Math.max(
        0, Math.min((long) (i + 1) * d, (long) (x + 1) * n) - Math.max((long) i * d, (long) x * n));
  }

  @Test
  void shorterSideKeepsTheAspectRatioAndNeverUpscales() {
    assertArrayEquals(new int[] {85, 64}, AreaResize.targetSize(640, 480, 64));
    assertArrayEquals(new int[] {64, 85}, AreaResize.targetSize(480, 640, 64));
    assertArrayEquals(new int[] {28, 28}, AreaResize.targetSize(28, 28, 64), "never an upscale");
    assertArrayEquals(new int[] {64, 64}, AreaResize.targetSize(4000, 4000, 64));
    // A strip: its longer side is capped at 4 × 64, the shorter comes out thinner instead.
    assertArrayEquals(new int[] {256, 1}, AreaResize.targetSize(4_000_000, 1, 64));
    assertArrayEquals(new int[] {256, 13}, AreaResize.targetSize(10_000, 500, 64));
    DecodedImage small = new DecodedImage(28, 28, 1, new byte[28 * 28]);
    assertSame(small, AreaResize.shorterSide(small, 64));
  }

  @Test
  void hashesSeeAJitteredFrameAsNearAndAnotherSceneAsFar() {
    BufferedImage a = SyntheticScenes.scene(640, 480, 1);
    long ha = DHash.of(AreaResize.shorterSide(SyntheticScenes.pixels(a), 64));
    long jittered =
        DHash.of(
            AreaResize.shorterSide(SyntheticScenes.pixels(SyntheticScenes.jitter(a, 99, 4)), 64));
    long other =
        DHash.of(
            AreaResize.shorterSide(SyntheticScenes.pixels(SyntheticScenes.scene(640, 480, 2)), 64));
    assertTrue(
        DHash.distance(ha, jittered) <= IngestOptions.Dedup.DEFAULT_MAX_DISTANCE,
        "jittered: " + DHash.distance(ha, jittered));
    assertTrue(DHash.distance(ha, other) > 12, "other scene: " + DHash.distance(ha, other));
  }
}
