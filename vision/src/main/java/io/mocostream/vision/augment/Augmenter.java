package io.mocostream.vision.augment;

import io.mocostream.frames.DecodedImage;
import io.mocostream.vision.augment.ViewParams.JitterOp;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * MoCo's augmentations on plain float arrays: turns a {@link DecodedImage} into normalised,
 * channels-first C × S × S views, written into caller-provided arrays at an offset (the engine
 * takes N × C × S × S batches).
 *
 * <p><b>Determinism.</b> Every random choice of a view is a pure function of (run seed, partition,
 * offset, view index): {@link #viewSeed} mixes them (SplitMix64 finaliser) and each operation draws
 * from its own {@link SplittableRandom} seeded from that, so a record gets the same views on replay
 * whatever batch it lands in and whatever thread computes it, and changing one operation's settings
 * (say, turning blur off) leaves the others' draws unchanged.
 *
 * <p><b>Why hand-written</b>: the views must be bit-reproducible across machines and thread counts
 * and fast enough to hide behind a training step; pure Java on float arrays gives both, with no
 * native image library. Resampling is separable and antialiased (triangle filter widened by the
 * downscale factor, like PIL's bilinear resize that torchvision uses), so a 640 px frame shrunk to
 * 32 px does not alias; for upscaling it is plain bilinear with half-pixel centres. The blur is
 * separable too.
 *
 * <p>Immutable and thread-safe; scratch buffers are per thread.
 */
public final class Augmenter {

  // Salts: one independent random stream per operation of a view.
  private static final long OP_CROP = 0x43524F50L;
  private static final long OP_JITTER = 0x4A495454L;
  private static final long OP_GRAY = 0x47524159L;
  private static final long OP_BLUR = 0x424C5552L;
  private static final long OP_FLIP = 0x464C4950L;

  private static final float[] BYTE_TO_UNIT = new float[256];

  static {
    for (int i = 0; i < 256; i++) {
      BYTE_TO_UNIT[i] = i / 255f;
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final AugmentConfig config;
  private final int s;
  private final int plane;
  private final float[] mean;
  private final float[] std;

  public Augmenter(AugmentConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.s = config.size();
    this.plane = s * s;
    this.mean = config.mean();
    this.std = config.std();
  }

  public AugmentConfig config() {
    return config;
  }

  /** Floats per view: C × S × S. */
  public int viewLength() {
    return config.viewLength();
  }

  /**
   * Writes the two views MoCo needs of one record: view 0 (query) at {@code outQ[offsetQ ..]}, view
   * 1 (key) at {@code outK[offsetK ..]}, each C × S × S, channels-first, normalised.
   */
  public void twoViews(
      DecodedImage img,
      long seed,
      int partition,
      long offset,
      float[] outQ,
      int offsetQ,
      float[] outK,
      int offsetK) {
    view(img, seed, partition, offset, 0, outQ, offsetQ);
    view(img, seed, partition, offset, 1, outK, offsetK);
  }

  /**
   * Writes view number {@code view} of the record at (partition, offset) into {@code out[off ..]}.
   */
  public void view(
      DecodedImage img, long seed, int partition, long offset, int view, float[] out, int off) {
    apply(img, draw(img.width(), img.height(), seed, partition, offset, view), out, off);
  }

  /**
   * Writes the image without augmentation, for evaluation: the largest centred square, resized to S
   * × S, converted to C channels and normalised (a square image is simply resized).
   */
  public void center(DecodedImage img, float[] out, int off) {
    checkOut(out, off);
    int side = Math.min(img.width(), img.height());
    Scratch sc = SCRATCH.get();
    float[] v = sc.view(config.channels() * plane);
    resample(img, (img.width() - side) / 2, (img.height() - side) / 2, side, side, v, sc);
    normalize(v, false, out, off);
  }

  /** Mixes the run seed and a record's stream position into the seed of one of its views. */
  public static long viewSeed(long seed, int partition, long offset, int view) {
    long h = mix(seed ^ 0x6D6F636F73747265L); // "mocostre"
    h = mix(h ^ partition);
    h = mix(h ^ offset);
    return mix(h ^ view);
  }

  /**
   * Draws the random choices of one view of a {@code width × height} image. Pure function of its
   * arguments.
   */
  public ViewParams draw(int width, int height, long seed, int partition, long offset, int view) {
    long vs = viewSeed(seed, partition, offset, view);
    AugmentConfig c = config;

    // RandomResizedCrop.get_params, as torchvision: 10 tries, then a centred crop of clamped ratio.
    SplittableRandom r = new SplittableRandom(mix(vs ^ OP_CROP));
    double area = (double) width * height;
    double logRatioMin = Math.log(c.cropRatioMin());
    double logRatioMax = Math.log(c.cropRatioMax());
    int cx = -1;
    int cy = -1;
    int cw = 0;
    int ch = 0;
    for (int attempt = 0; attempt < 10; attempt++) {
      double target = area * uniform(r, c.cropScaleMin(), c.cropScaleMax());
      double aspect = Math.exp(uniform(r, logRatioMin, logRatioMax));
      int w = (int) Math.round(Math.sqrt(target * aspect));
      int h = (int) Math.round(Math.sqrt(target / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        cy = r.nextInt(height - h + 1);
        cx = r.nextInt(width - w + 1);
        cw = w;
        ch = h;
        break;
      }
    }
    if (cx < 0) {
      double inRatio = (double) width / height;
      if (inRatio < c.cropRatioMin()) {
        cw = width;
        ch = Math.max(1, Math.min(height, (int) Math.round(cw / c.cropRatioMin())));
      } else if (inRatio > c.cropRatioMax()) {
        ch = height;
        cw = Math.max(1, Math.min(width, (int) Math.round(ch * c.cropRatioMax())));
      } else {
        cw = width;
        ch = height;
      }
      cy = (height - ch) / 2;
      cx = (width - cw) / 2;
    }

    // ColorJitter: RandomApply(p), then a permutation and four factors (all drawn, as torchvision
    // does).
    r = new SplittableRandom(mix(vs ^ OP_JITTER));
    boolean jitter = r.nextDouble() < c.jitterP();
    JitterOp[] ops = JitterOp.values();
    for (int i = ops.length - 1; i > 0; i--) { // Fisher–Yates
      int j = r.nextInt(i + 1);
      JitterOp t = ops[i];
      ops[i] = ops[j];
      ops[j] = t;
    }
    float b = (float) uniform(r, Math.max(0, 1 - c.brightness()), 1 + c.brightness());
    float co = (float) uniform(r, Math.max(0, 1 - c.contrast()), 1 + c.contrast());
    float sa = (float) uniform(r, Math.max(0, 1 - c.saturation()), 1 + c.saturation());
    float hu = (float) uniform(r, -c.hue(), c.hue());

    boolean gray = new SplittableRandom(mix(vs ^ OP_GRAY)).nextDouble() < c.grayscaleP();
    r = new SplittableRandom(mix(vs ^ OP_BLUR));
    boolean blur = r.nextDouble() < c.blurP();
    float sigma = (float) uniform(r, c.blurSigmaMin(), c.blurSigmaMax());
    boolean flip = new SplittableRandom(mix(vs ^ OP_FLIP)).nextDouble() < c.flipP();
    return new ViewParams(
        cx, cy, cw, ch, jitter, List.of(ops), b, co, sa, hu, gray, blur ? sigma : 0f, flip);
  }

  /** Renders a view of {@code img} with the given choices into {@code out[off ..]} (C × S × S). */
  public void apply(DecodedImage img, ViewParams p, float[] out, int off) {
    checkOut(out, off);
    if (p.cropX() < 0
        || p.cropY() < 0
        || p.cropW() < 1
        || p.cropH() < 1
        || p.cropX() + p.cropW() > img.width()
        || p.cropY() + p.cropH() > img.height()) {
      throw new IllegalArgumentException(
          "crop "
              + p.cropW()
              + "x"
              + p.cropH()
              + "+"
              + p.cropX()
              + "+"
              + p.cropY()
              + " lies outside the "
              + img.width()
              + "x"
              + img.height()
              + " image");
    }
    Scratch sc = SCRATCH.get();
    int channels = config.channels();
    float[] v = sc.view(channels * plane); // C planes of S×S, values in [0, 1]
    resample(img, p.cropX(), p.cropY(), p.cropW(), p.cropH(), v, sc);
    if (config.grayscaleBeforeJitter() && p.grayscale()) {
      grayscale(v);
    }
    if (p.jitter()) {
      for (JitterOp op : p.jitterOrder()) {
        switch (op) {
          case BRIGHTNESS -> brightness(v, p.brightness());
          case CONTRAST -> contrast(v, p.contrast());
          case SATURATION -> saturation(v, p.saturation());
          case HUE -> hue(v, p.hue());
        }
      }
    }
    if (!config.grayscaleBeforeJitter() && p.grayscale()) {
      grayscale(v);
    }
    if (p.blurSigma() > 0) {
      blur(v, p.blurSigma(), sc);
    }
    normalize(v, p.flip(), out, off);
  }

  private void checkOut(float[] out, int off) {
    Objects.requireNonNull(out, "out");
    if (off < 0 || off > out.length - config.viewLength()) {
      throw new IndexOutOfBoundsException(
          "a view of "
              + config.viewLength()
              + " floats at offset "
              + off
              + " does not fit an array of "
              + out.length);
    }
  }

  // ---- resampling
  // -------------------------------------------------------------------------------------

  /**
   * Resizes the crop (x0, y0, cw, ch) of {@code img} to S × S into {@code v} (C planes, [0, 1]),
   * converting the channel count. Separable: rows first (into {@code sc.rows}), then columns.
   */
  private void resample(DecodedImage img, int x0, int y0, int cw, int ch, float[] v, Scratch sc) {
    int cin = img.channels();
    int w = img.width();
    byte[] px = img.pixels();
    Taps tx = taps(x0, cw, sc.tapsX);
    sc.tapsX = tx;
    Taps ty = taps(y0, ch, sc.tapsY);
    sc.tapsY = ty;

    // Horizontal pass: crop rows × S outputs, per input channel. rows[c][(y - y0) * S + ox]
    float[] rows = sc.rows(cin * ch * s);
    int rowPlane = ch * s;
    for (int y = 0; y < ch; y++) {
      int rowBase = (y0 + y) * w * cin;
      for (int ox = 0; ox < s; ox++) {
        int start = tx.start[ox];
        int n = tx.count[ox];
        int wb = ox * tx.stride;
        for (int c = 0; c < cin; c++) {
          float acc = 0f;
          int pi = rowBase + start * cin + c;
          for (int t = 0; t < n; t++, pi += cin) {
            acc += tx.weight[wb + t] * BYTE_TO_UNIT[px[pi] & 0xFF];
          }
          rows[c * rowPlane + y * s + ox] = acc;
        }
      }
    }
    // Vertical pass: straight into v when the channel counts agree, else via a buffer converted
    // below.
    float[] dst = cin == config.channels() ? v : sc.convert(cin * plane);
    for (int c = 0; c < cin; c++) {
      int rb = c * rowPlane;
      int db = c * plane;
      for (int oy = 0; oy < s; oy++) {
        int start = ty.start[oy] - y0;
        int n = ty.count[oy];
        int wb = oy * ty.stride;
        int o = db + oy * s;
        for (int ox = 0; ox < s; ox++) {
          dst[o + ox] = 0f;
        }
        for (int t = 0; t < n; t++) {
          float wt = ty.weight[wb + t];
          int ri = rb + (start + t) * s;
          for (int ox = 0; ox < s; ox++) {
            dst[o + ox] += wt * rows[ri + ox];
          }
        }
      }
    }
    if (cin == 1 && config.channels() == 3) {
      System.arraycopy(dst, 0, v, 0, plane);
      System.arraycopy(dst, 0, v, plane, plane);
      System.arraycopy(dst, 0, v, 2 * plane, plane);
    } else if (cin == 3 && config.channels() == 1) {
      for (int i = 0; i < plane; i++) {
        v[i] = luma(dst[i], dst[plane + i], dst[2 * plane + i]);
      }
    }
  }

  /**
   * Per-output filter taps along one axis: source indices start..start+count-1 (inside the crop),
   * weights.
   */
  private static final class Taps {
    int[] start;
    int[] count;
    float[] weight; // [out * stride + t]
    int stride;
  }

  /**
   * Triangle-filter taps mapping source span [lo, lo + len) onto S outputs. Support is one source
   * pixel when upscaling (bilinear), {@code len / S} when downscaling (antialiasing); samples
   * beyond the crop are clamped to its edge, as when torchvision crops first and resizes the crop.
   */
  private Taps taps(int lo, int len, Taps reuse) {
    double scale = (double) len / s;
    double support = Math.max(1.0, scale);
    int stride = (int) Math.ceil(2 * support) + 3; // ≥ taps in [floor(c − sup), ceil(c + sup)]
    Taps t =
        reuse != null && reuse.start.length == s && reuse.weight.length >= s * stride
            ? reuse
            : new Taps();
    if (t != reuse) {
      t.start = new int[s];
      t.count = new int[s];
      t.weight = new float[s * stride];
    }
    t.stride = stride;
    int hi = lo + len - 1;
    for (int o = 0; o < s; o++) {
      double center = lo + (o + 0.5) * scale;
      int first = (int) Math.floor(center - support);
      int last = (int) Math.ceil(center + support);
      // Clamp into the crop, merging the weight of clamped samples onto the edge pixel.
      int a = Math.max(first, lo);
      int b = Math.min(last, hi);
      int n = b - a + 1;
      int base = o * stride;
      for (int i = 0; i < n; i++) {
        t.weight[base + i] = 0f;
      }
      double sum = 0;
      for (int i = first; i <= last; i++) {
        double wgt = 1.0 - Math.abs(i + 0.5 - center) / support;
        if (wgt <= 0) {
          continue;
        }
        int k = Math.min(Math.max(i, a), b) - a;
        t.weight[base + k] += (float) wgt;
        sum += wgt;
      }
      for (int i = 0; i < n; i++) {
        t.weight[base + i] = (float) (t.weight[base + i] / sum);
      }
      t.start[o] = a;
      t.count[o] = n;
    }
    return t;
  }

  // ---- colour (torchvision's tensor formulas, on [0, 1] floats)
  // -------------------------------------

  private static float luma(float r, float g, float b) {
    return 0.299f * r + 0.587f * g + 0.114f * b;
  }

  private static float clamp01(float x) {
    return x < 0f ? 0f : (x > 1f ? 1f : x);
  }

  private void brightness(float[] v, float f) {
    int n = config.channels() * plane;
    for (int i = 0; i < n; i++) {
      v[i] = clamp01(v[i] * f);
    }
  }

  /** Blends towards the mean grey level of the whole image. */
  private void contrast(float[] v, float f) {
    double sum = 0;
    if (config.channels() == 3) {
      for (int i = 0; i < plane; i++) {
        sum += luma(v[i], v[plane + i], v[2 * plane + i]);
      }
    } else {
      for (int i = 0; i < plane; i++) {
        sum += v[i];
      }
    }
    float bias = (1 - f) * (float) (sum / plane);
    int n = config.channels() * plane;
    for (int i = 0; i < n; i++) {
      v[i] = clamp01(f * v[i] + bias);
    }
  }

  /** Blends each pixel towards its own grey level; no-op on grey images. */
  private void saturation(float[] v, float f) {
    if (config.channels() != 3) {
      return;
    }
    for (int i = 0; i < plane; i++) {
      float g = (1 - f) * luma(v[i], v[plane + i], v[2 * plane + i]);
      v[i] = clamp01(f * v[i] + g);
      v[plane + i] = clamp01(f * v[plane + i] + g);
      v[2 * plane + i] = clamp01(f * v[2 * plane + i] + g);
    }
  }

  /**
   * Rotates the hue by {@code shift} turns through HSV (torchvision's _rgb2hsv/_hsv2rgb); no-op on
   * grey.
   */
  private void hue(float[] v, float shift) {
    if (config.channels() != 3 || shift == 0f) {
      return;
    }
    for (int i = 0; i < plane; i++) {
      float r = v[i];
      float g = v[plane + i];
      float b = v[2 * plane + i];
      float max = Math.max(r, Math.max(g, b));
      float min = Math.min(r, Math.min(g, b));
      float cr = max - min;
      if (cr == 0f) {
        continue; // grey pixel: hue undefined, unchanged
      }
      float sat = cr / max;
      float h;
      if (max == r) {
        h = (g - b) / cr;
      } else if (max == g) {
        h = 2f + (b - r) / cr;
      } else {
        h = 4f + (r - g) / cr;
      }
      h = h / 6f + shift;
      h -= (float) Math.floor(h);
      // HSV -> RGB
      float h6 = h * 6f;
      int sector = (int) h6 % 6;
      float f = h6 - (int) h6;
      float p = max * (1f - sat);
      float q = max * (1f - sat * f);
      float t = max * (1f - sat * (1f - f));
      switch (sector) {
        case 0 -> {
          r = max;
          g = t;
          b = p;
        }
        case 1 -> {
          r = q;
          g = max;
          b = p;
        }
        case 2 -> {
          r = p;
          g = max;
          b = t;
        }
        case 3 -> {
          r = p;
          g = q;
          b = max;
        }
        case 4 -> {
          r = t;
          g = p;
          b = max;
        }
        default -> {
          r = max;
          g = p;
          b = q;
        }
      }
      v[i] = clamp01(r);
      v[plane + i] = clamp01(g);
      v[2 * plane + i] = clamp01(b);
    }
  }

  /** Replaces RGB by its luma in all three planes; no-op on grey. */
  private void grayscale(float[] v) {
    if (config.channels() != 3) {
      return;
    }
    for (int i = 0; i < plane; i++) {
      float g = luma(v[i], v[plane + i], v[2 * plane + i]);
      v[i] = g;
      v[plane + i] = g;
      v[2 * plane + i] = g;
    }
  }

  // ---- blur
  // -------------------------------------------------------------------------------------------

  /**
   * Separable Gaussian of {@code sigma} on a {@link AugmentConfig#blurKernelSize()} kernel, reflect
   * padding.
   */
  private void blur(float[] v, float sigma, Scratch sc) {
    int k = config.blurKernelSize();
    int r = k / 2;
    float[] kernel = new float[k];
    double sum = 0;
    for (int i = 0; i < k; i++) {
      double x = i - r;
      kernel[i] = (float) Math.exp(-x * x / (2.0 * sigma * sigma));
      sum += kernel[i];
    }
    for (int i = 0; i < k; i++) {
      kernel[i] = (float) (kernel[i] / sum);
    }
    float[] tmp = sc.blur(plane);
    for (int c = 0; c < config.channels(); c++) {
      int base = c * plane;
      for (int y = 0; y < s; y++) { // rows
        int row = base + y * s;
        for (int x = 0; x < s; x++) {
          float acc = 0f;
          for (int t = 0; t < k; t++) {
            acc += kernel[t] * v[row + reflect(x + t - r)];
          }
          tmp[y * s + x] = acc;
        }
      }
      for (int y = 0; y < s; y++) { // columns
        int o = base + y * s;
        for (int x = 0; x < s; x++) {
          v[o + x] = 0f;
        }
        for (int t = 0; t < k; t++) {
          float kt = kernel[t];
          int src = reflect(y + t - r) * s;
          for (int x = 0; x < s; x++) {
            v[o + x] += kt * tmp[src + x];
          }
        }
      }
    }
  }

  /** Reflect padding without repeating the edge (numpy/torch "reflect"); safe for radius ≥ S. */
  private int reflect(int i) {
    if (s == 1) {
      return 0;
    }
    int period = 2 * (s - 1);
    i = Math.floorMod(i, period);
    return i < s ? i : period - i;
  }

  // ---- output
  // -----------------------------------------------------------------------------------------

  private void normalize(float[] v, boolean flip, float[] out, int off) {
    for (int c = 0; c < config.channels(); c++) {
      float m = mean[c];
      float inv = 1f / std[c];
      int base = c * plane;
      for (int y = 0; y < s; y++) {
        int src = base + y * s;
        int dst = off + base + y * s;
        if (flip) {
          for (int x = 0; x < s; x++) {
            out[dst + x] = (v[src + s - 1 - x] - m) * inv;
          }
        } else {
          for (int x = 0; x < s; x++) {
            out[dst + x] = (v[src + x] - m) * inv;
          }
        }
      }
    }
  }

  // ---- randomness
  // ------------------------------------------------------------------------------------

  private static double uniform(SplittableRandom r, double lo, double hi) {
    return lo == hi ? lo : lo + (hi - lo) * r.nextDouble();
  }

  /** SplitMix64's finaliser: a bijective 64-bit mix with full avalanche. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Per-thread buffers, grown on demand, so a view allocates nothing in steady state. */
  private static final class Scratch {
    float[] view = new float[0];
    float[] rows = new float[0];
    float[] convert = new float[0];
    float[] blur = new float[0];
    Taps tapsX;
    Taps tapsY;

    float[] view(int n) {
      return view.length >= n ? view : (view = new float[n]);
    }

    float[] rows(int n) {
      return rows.length >= n ? rows : (rows = new float[n]);
    }

    float[] convert(int n) {
      return convert.length >= n ? convert : (convert = new float[n]);
    }

    float[] blur(int n) {
      return blur.length >= n ? blur : (blur = new float[n]);
    }
  }
}
