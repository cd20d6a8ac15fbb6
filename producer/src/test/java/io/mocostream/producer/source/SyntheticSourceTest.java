package io.mocostream.producer.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.FrameLimits;
import io.mocostream.producer.validate.FrameValidator;
import io.mocostream.producer.validate.Verdict;
import io.mocostream.schemas.ContentType;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class SyntheticSourceTest {

  @Test
  void sameSeedSameBytesAndLabels() {
    SyntheticSource a = new SyntheticSource(10, 7, "s");
    SyntheticSource b = new SyntheticSource(10, 7, "s");
    for (int i = 0; i < 50; i++) {
      SourceItem x = (SourceItem) a.next();
      SourceItem y = (SourceItem) b.next();
      assertArrayEquals(x.data(), y.data(), "image " + i);
      assertEquals(x.label(), y.label());
    }
  }

  @Test
  void differentSeedsDiffer() {
    SyntheticSource a = new SyntheticSource(10, 1, 32, SyntheticSource.Encoding.RAW_RGB, "s");
    SyntheticSource b = new SyntheticSource(10, 2, 32, SyntheticSource.Encoding.RAW_RGB, "s");
    assertFalse(Arrays.equals(a.image(0).rgb(), b.image(0).rgb()));
  }

  @Test
  void imageDependsOnlyOnSeedAndIndex() {
    SyntheticSource a = new SyntheticSource(10, 3, "s");
    SourceItem first = (SourceItem) a.next();
    for (int i = 0; i < 20; i++) {
      a.next();
    }
    a.rewind();
    assertArrayEquals(first.data(), ((SourceItem) a.next()).data());
    assertArrayEquals(new SyntheticSource(10, 3, "s").image(17).rgb(), a.image(17).rgb());
  }

  @Test
  void everyClassAppearsAndLabelsAreInRange() {
    SyntheticSource s = new SyntheticSource(5, 11, "s");
    int[] counts = new int[5];
    for (int i = 0; i < 500; i++) {
      counts[s.image(i).label()]++;
    }
    for (int c = 0; c < 5; c++) {
      assertTrue(
          counts[c] > 60 && counts[c] < 140,
          "class " + c + " drawn " + counts[c] + " times of 500");
    }
  }

  @Test
  void classesAreDistinguishableByTheirStripeOrientation() {
    // Mean absolute difference along the stripe direction is small, across it large: the class is
    // in the image.
    SyntheticSource s = new SyntheticSource(4, 5, 32, SyntheticSource.Encoding.RAW_RGB, "s");
    for (int i = 0; i < 40; i++) {
      SyntheticSource.Image img = s.image(i);
      if (img.label() == 0) { // angle 0: u = x, stripes vary along x, constant along y
        assertTrue(meanDiff(img.rgb(), 1, 0) > 2 * meanDiff(img.rgb(), 0, 1), "image " + i);
      } else if (img.label() == 2) { // angle π/2: u = y, stripes vary along y
        assertTrue(meanDiff(img.rgb(), 0, 1) > 2 * meanDiff(img.rgb(), 1, 0), "image " + i);
      }
    }
  }

  private static double meanDiff(byte[] rgb, int dx, int dy) {
    double sum = 0;
    int n = 0;
    for (int y = 0; y + dy < 32; y++) {
      for (int x = 0; x + dx < 32; x++) {
        for (int ch = 0; ch < 3; ch++) {
          int a = rgb[(y * 32 + x) * 3 + ch] & 0xFF;
          int b = rgb[((y + dy) * 32 + x + dx) * 3 + ch] & 0xFF;
          sum += Math.abs(a - b);
        }
        n++;
      }
    }
    return sum / n;
  }

  @Test
  void pngFramesDecodeAndPassValidation() throws IOException {
    SyntheticSource s = new SyntheticSource(10, 0, "cam");
    SourceItem item = (SourceItem) s.next();
    assertEquals(ContentType.PNG, item.contentType());
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(item.data()));
    assertNotNull(img);
    assertEquals(32, img.getWidth());
    int rgb = img.getRGB(5, 7);
    byte[] raw = s.image(0).rgb();
    int o = (7 * 32 + 5) * 3;
    assertEquals(
        ((raw[o] & 0xFF) << 16) | ((raw[o + 1] & 0xFF) << 8) | (raw[o + 2] & 0xFF), rgb & 0xFFFFFF);
    Verdict v =
        new FrameValidator(FrameLimits.DEFAULT)
            .validate(item.origin(), item.data(), item.contentType(), item.width(), item.height());
    assertEquals(new Verdict.Accepted(ContentType.PNG, 32, 32), v);
  }

  @Test
  void rejectsBadParameters() {
    assertThrows(IllegalArgumentException.class, () -> new SyntheticSource(0, 0, "s"));
    assertThrows(
        IllegalArgumentException.class,
        () -> new SyntheticSource(3, 0, 2, SyntheticSource.Encoding.PNG, "s"));
  }
}
