package io.mocostream.producer.source;

import io.mocostream.schemas.ContentType;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Turns any source into the feed of a few fixed cameras: each item of the underlying source is
 * shown by one camera as a burst of {@code burst} frames that drift a little (shift, scale,
 * brightness), and {@code cameras} cameras emit their frames interleaved, round-robin, as live
 * feeds reach a broker. Consecutive frames of one camera are near-duplicates, which is what a MoCo
 * queue filled from a live feed suffers from (false negatives) and what the trainer's replay buffer
 * and same-source masking are for.
 *
 * <p>Camera {@code c} keys its frames {@code ID/cam-c}; frame {@code f} of a camera is captured at
 * {@code t0 + f·interval}. Frames are raw pixels of the item's size (grey stays grey, anything else
 * becomes RGB). The drift of item {@code i} is drawn from a generator seeded by {@code (seed, i)}
 * alone, so a run is the same bytes every time. Refused inputs of the underlying source pass
 * through unchanged.
 */
public final class CorrelatedSource implements FrameSource {
  public static final int DEFAULT_BURST = 8;
  public static final int DEFAULT_CAMERAS = 4;
  public static final long DEFAULT_INTERVAL_MS = 100;

  /**
   * Per frame at most: shift drift in pixels, scale drift (relative), brightness drift (relative).
   */
  static final double SHIFT_STEP = 0.5;

  static final double SCALE_STEP = 0.015;
  static final double BRIGHTNESS_STEP = 0.03;

  /** Bounds of the accumulated drift within a burst. */
  static final double MAX_SHIFT = 3;

  static final double MIN_SCALE = 0.9;
  static final double MAX_SCALE = 1.1;
  static final double MIN_BRIGHTNESS = 0.75;
  static final double MAX_BRIGHTNESS = 1.25;

  /**
   * @param burst frames per item (≥ 1)
   * @param cameras cameras (distinct source ids) emitting interleaved (≥ 1)
   * @param intervalMs capture time between two frames of one camera
   * @param seed seed of the drift
   */
  public record Settings(int burst, int cameras, long intervalMs, long seed) {
    public Settings {
      if (burst < 1 || burst > 10_000) {
        throw new IllegalArgumentException("--burst must be in 1..10000, got " + burst);
      }
      if (cameras < 1 || cameras > 10_000) {
        throw new IllegalArgumentException("--cameras must be in 1..10000, got " + cameras);
      }
      if (intervalMs < 0) {
        throw new IllegalArgumentException("--frame-interval-ms must be ≥ 0, got " + intervalMs);
      }
    }

    public static Settings defaults(long seed) {
      return new Settings(DEFAULT_BURST, DEFAULT_CAMERAS, DEFAULT_INTERVAL_MS, seed);
    }
  }

  /** A decoded item: channels-last pixels. */
  private record Pixels(int width, int height, int channels, byte[] data) {}

  /** One camera's current burst. */
  private static final class Camera {
    final int index;
    long framesEmitted;
    SourceItem item;
    Pixels pixels;
    long itemIndex;
    int frame;
    double dx;
    double dy;
    double scale;
    double brightness;
    double vx;
    double vy;
    double vs;
    double vb;

    Camera(int index) {
      this.index = index;
    }
  }

  private final FrameSource inner;
  private final Settings settings;
  private final List<Camera> cameras = new ArrayList<>();
  private final List<SourceEntry> passThrough = new ArrayList<>();
  private long itemsTaken;
  private int next;
  private boolean innerDone;
  private Long t0;

  public CorrelatedSource(FrameSource inner, Settings settings) {
    this.inner = inner;
    this.settings = settings;
    reset();
  }

  private void reset() {
    cameras.clear();
    for (int c = 0; c < settings.cameras(); c++) {
      cameras.add(new Camera(c));
    }
    passThrough.clear();
    itemsTaken = 0;
    next = 0;
    innerDone = false;
  }

  @Override
  public SourceEntry next() throws IOException, InterruptedException {
    while (true) {
      if (!passThrough.isEmpty()) {
        return passThrough.remove(0);
      }
      int live = 0;
      for (int tried = 0; tried < cameras.size(); tried++) {
        Camera cam = cameras.get(next);
        next = (next + 1) % cameras.size();
        if (cam.item == null || cam.frame >= settings.burst()) {
          if (!startBurst(cam)) {
            if (!passThrough.isEmpty()) {
              break; // a refusal came first: hand it out, then continue with this camera
            }
            continue;
          }
        }
        live++;
        return emit(cam);
      }
      if (live == 0 && passThrough.isEmpty()) {
        return null; // the underlying source is exhausted and every burst is finished
      }
    }
  }

  /**
   * Loads the camera's next item; false when the underlying source has none (or it was refused: see
   * passThrough).
   */
  private boolean startBurst(Camera cam) throws IOException, InterruptedException {
    cam.item = null;
    if (innerDone) {
      return false;
    }
    SourceEntry e = inner.next();
    if (e == null) {
      innerDone = true;
      return false;
    }
    if (e instanceof SourceEntry.Refused) {
      passThrough.add(e);
      return false;
    }
    SourceItem item = (SourceItem) e;
    Pixels pixels;
    try {
      pixels = decode(item);
    } catch (IOException | RuntimeException ex) {
      passThrough.add(
          new SourceEntry.Refused(
              new io.mocostream.producer.validate.Refusal(
                  item.origin(),
                  io.mocostream.frames.Reason.UNDECODABLE,
                  "cannot decode it for a correlated burst: " + ex.getMessage())));
      return false;
    }
    if (t0 == null) {
      t0 = item.captureTimeMs();
    }
    long i = itemsTaken++;
    SplittableRandom rnd = new SplittableRandom(settings.seed() * 0x9E3779B97F4A7C15L + i);
    cam.item = item;
    cam.pixels = pixels;
    cam.itemIndex = i;
    cam.frame = 0;
    cam.dx = rnd.nextDouble(-1, 1);
    cam.dy = rnd.nextDouble(-1, 1);
    cam.scale = 1 + rnd.nextDouble(-0.03, 0.03);
    cam.brightness = 1 + rnd.nextDouble(-0.1, 0.1);
    cam.vx = rnd.nextDouble(-SHIFT_STEP, SHIFT_STEP);
    cam.vy = rnd.nextDouble(-SHIFT_STEP, SHIFT_STEP);
    cam.vs = rnd.nextDouble(-SCALE_STEP, SCALE_STEP);
    cam.vb = rnd.nextDouble(-BRIGHTNESS_STEP, BRIGHTNESS_STEP);
    return true;
  }

  private SourceItem emit(Camera cam) {
    if (cam.frame > 0) { // drift, bounded: a fixed camera looking at a slowly changing scene
      cam.dx = clamp(cam.dx + cam.vx, -MAX_SHIFT, MAX_SHIFT);
      cam.dy = clamp(cam.dy + cam.vy, -MAX_SHIFT, MAX_SHIFT);
      cam.scale = clamp(cam.scale + cam.vs, MIN_SCALE, MAX_SCALE);
      cam.brightness = clamp(cam.brightness + cam.vb, MIN_BRIGHTNESS, MAX_BRIGHTNESS);
    }
    byte[] frame = render(cam.pixels, cam.dx, cam.dy, cam.scale, cam.brightness);
    SourceItem item = cam.item;
    Map<String, String> attrs = new HashMap<>(item.attributes());
    attrs.put("camera", Integer.toString(cam.index));
    attrs.put("burst_item", Long.toString(cam.itemIndex));
    attrs.put("burst_frame", Integer.toString(cam.frame));
    String id = item.sourceId() + "/cam-" + cam.index;
    long capture = t0 + cam.framesEmitted * settings.intervalMs();
    cam.framesEmitted++;
    cam.frame++;
    ContentType type = cam.pixels.channels() == 1 ? ContentType.RAW_GREY : ContentType.RAW_RGB;
    return new SourceItem(
        id,
        item.origin() + "@cam-" + cam.index + "#" + (cam.frame - 1),
        type,
        frame,
        cam.pixels.width(),
        cam.pixels.height(),
        item.label(),
        capture,
        attrs);
  }

  /**
   * out(x, y) = b · in(c + (x − c − d)/s), bilinear, edges clamped: the item shifted by d, scaled
   * by s about its centre c, brightness times b.
   */
  static byte[] render(Pixels p, double dx, double dy, double scale, double brightness) {
    int w = p.width();
    int h = p.height();
    int ch = p.channels();
    byte[] out = new byte[w * h * ch];
    double cx = (w - 1) / 2.0;
    double cy = (h - 1) / 2.0;
    for (int y = 0; y < h; y++) {
      double sy = clamp(cy + (y - cy - dy) / scale, 0, h - 1);
      int y0 = (int) Math.floor(sy);
      int y1 = Math.min(y0 + 1, h - 1);
      double fy = sy - y0;
      for (int x = 0; x < w; x++) {
        double sx = clamp(cx + (x - cx - dx) / scale, 0, w - 1);
        int x0 = (int) Math.floor(sx);
        int x1 = Math.min(x0 + 1, w - 1);
        double fx = sx - x0;
        for (int c = 0; c < ch; c++) {
          double v00 = p.data()[(y0 * w + x0) * ch + c] & 0xff;
          double v01 = p.data()[(y0 * w + x1) * ch + c] & 0xff;
          double v10 = p.data()[(y1 * w + x0) * ch + c] & 0xff;
          double v11 = p.data()[(y1 * w + x1) * ch + c] & 0xff;
          double v = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
          out[(y * w + x) * ch + c] = (byte) (int) Math.round(clamp(v * brightness, 0, 255));
        }
      }
    }
    return out;
  }

  /** Raw items as they are; encoded ones (a folder's PNG/JPEG) through ImageIO, to grey or RGB. */
  private static Pixels decode(SourceItem item) throws IOException {
    if (item.contentType() == ContentType.RAW_GREY || item.contentType() == ContentType.RAW_RGB) {
      int ch = item.contentType() == ContentType.RAW_GREY ? 1 : 3;
      if (item.width() == null
          || item.height() == null
          || (long) item.width() * item.height() * ch != item.data().length) {
        throw new IOException(
            "raw item of "
                + item.data().length
                + " bytes does not match "
                + item.width()
                + "×"
                + item.height()
                + "×"
                + ch);
      }
      return new Pixels(item.width(), item.height(), ch, item.data());
    }
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(item.data()));
    if (img == null) {
      throw new IOException("not an image ImageIO can read");
    }
    int w = img.getWidth();
    int h = img.getHeight();
    boolean grey = img.getColorModel().getNumComponents() == 1;
    int ch = grey ? 1 : 3;
    byte[] data = new byte[w * h * ch];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        if (grey) {
          data[y * w + x] = (byte) (rgb & 0xff);
        } else {
          int o = (y * w + x) * 3;
          data[o] = (byte) (rgb >> 16);
          data[o + 1] = (byte) (rgb >> 8);
          data[o + 2] = (byte) rgb;
        }
      }
    }
    return new Pixels(w, h, ch, data);
  }

  private static double clamp(double v, double lo, double hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  @Override
  public void cancel() {
    inner.cancel();
  }

  @Override
  public void rewind() throws IOException {
    inner.rewind();
    reset();
  }

  @Override
  public String describe() {
    return inner.describe()
        + " as "
        + settings.cameras()
        + " correlated cameras (bursts of "
        + settings.burst()
        + " frames, seed "
        + settings.seed()
        + ")";
  }

  @Override
  public void close() throws IOException {
    inner.close();
  }
}
