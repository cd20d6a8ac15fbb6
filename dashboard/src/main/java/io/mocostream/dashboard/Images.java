package io.mocostream.dashboard;

import io.mocostream.frames.DecodedImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import javax.imageio.ImageIO;

/**
 * Images as {@code data:image/png;base64,...} URLs: the page shows them without further requests,
 * and since the PNG is encoded here from decoded pixels, no byte a topic held reaches the browser's
 * decoders.
 */
final class Images {
  /**
   * Longest side of an image put on the page; larger frames are shrunk (nearest neighbour) first.
   */
  static final int MAX_SIDE = 96;

  private Images() {}

  /**
   * {@code img} (HWC bytes, 1 or 3 channels) as a PNG data URL, at most {@link #MAX_SIDE} pixels a
   * side.
   */
  static String png(DecodedImage img) {
    int w = img.width();
    int h = img.height();
    double scale = Math.min(1.0, (double) MAX_SIDE / Math.max(w, h));
    int ow = Math.max(1, (int) Math.round(w * scale));
    int oh = Math.max(1, (int) Math.round(h * scale));
    BufferedImage out = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < oh; y++) {
      int sy = Math.min(h - 1, (int) (y / scale));
      for (int x = 0; x < ow; x++) {
        int sx = Math.min(w - 1, (int) (x / scale));
        int r = img.sample(sx, sy, 0);
        int g = img.channels() == 3 ? img.sample(sx, sy, 1) : r;
        int b = img.channels() == 3 ? img.sample(sx, sy, 2) : r;
        out.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return encode(out);
  }

  /**
   * A normalised view (C×S×S channels-first floats at {@code off}, as the augmenter writes them) as
   * a PNG data URL: each value v shown as (v·std + mean)·255.
   */
  static String png(float[] view, int off, int channels, int side, float[] mean, float[] std) {
    BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    int plane = side * side;
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        int[] rgb = new int[3];
        for (int c = 0; c < 3; c++) {
          int ch = channels == 3 ? c : 0;
          float v = view[off + ch * plane + y * side + x] * std[ch] + mean[ch];
          rgb[c] = Math.max(0, Math.min(255, Math.round(v * 255f)));
        }
        out.setRGB(x, y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
      }
    }
    return encode(out);
  }

  private static String encode(BufferedImage img) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding failed", e);
    }
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(bytes.toByteArray());
  }
}
