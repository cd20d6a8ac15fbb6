package io.mocostream.vision.augment;

import java.util.Arrays;

/**
 * What {@link Augmenter} does to an image, with MoCo's two recipes as factories.
 *
 * <p><b>aug+ (MoCo v2, {@link #mocoV2})</b>, in this order, as in facebookresearch/moco {@code
 * main_moco.py}: RandomResizedCrop(S, scale 0.2–1, ratio 3/4–4/3) → ColorJitter(0.4, 0.4, 0.4, 0.1)
 * with p = 0.8 → RandomGrayscale p = 0.2 → GaussianBlur σ ∈ [0.1, 2] p = 0.5 → horizontal flip p =
 * 0.5 → ToTensor → Normalize.<br>
 * <b>MoCo v1 ({@link #mocoV1})</b>: RandomResizedCrop(S, scale 0.2–1) → RandomGrayscale p = 0.2 →
 * ColorJitter(0.4, 0.4, 0.4, 0.4) always → flip → ToTensor → Normalize.
 *
 * <p>ColorJitter applies its four operations in a random order, as torchvision does. Blur: a
 * Gaussian of σ drawn from [{@code blurSigmaMin}, {@code blurSigmaMax}] on a kernel of {@code
 * blurKernelFraction} of the output size (odd, at least 3), reflect-padded, as torchvision's
 * GaussianBlur(kernel, σ) in SimCLR's recipe. MoCo's own blur is PIL's untruncated
 * GaussianBlur(radius=σ); at 224 px a 10 % kernel (23 taps) holds ±3σ for every σ ≤ 2, so the two
 * agree there, while on 28–32 px inputs the small kernel keeps the blur from wiping out the image.
 *
 * <p><b>Grey images</b> ({@code channels == 1}): brightness and contrast act as on RGB (contrast
 * blends towards the image mean); saturation, hue and RandomGrayscale are no-ops, since a grey
 * image has no chroma; their random draws are still made, so the other choices do not depend on the
 * channel count. The output always has {@code channels} channels: a grey input is replicated into
 * RGB when {@code channels == 3}, an RGB input is turned into luma (ITU-R 601: 0.299 R + 0.587 G +
 * 0.114 B, as torchvision) when {@code channels == 1}.
 *
 * @param size output side S (views are C × S × S)
 * @param channels output channels C, 1 or 3
 * @param cropScaleMin RandomResizedCrop lower bound of the crop's area fraction
 * @param cropScaleMax upper bound of the area fraction
 * @param cropRatioMin lower bound of the crop's aspect ratio (w/h)
 * @param cropRatioMax upper bound of the aspect ratio
 * @param jitterP probability of applying ColorJitter
 * @param brightness ColorJitter brightness: factor drawn from [max(0, 1−b), 1+b]
 * @param contrast ColorJitter contrast, like brightness
 * @param saturation ColorJitter saturation, like brightness
 * @param hue ColorJitter hue: shift drawn from [−h, h], h ≤ 0.5
 * @param grayscaleP probability of RandomGrayscale
 * @param grayscaleBeforeJitter true for v1's order (grayscale, then jitter), false for v2's
 * @param blurP probability of Gaussian blur
 * @param blurSigmaMin lower bound of σ, in output pixels
 * @param blurSigmaMax upper bound of σ
 * @param blurKernelFraction kernel size as a fraction of S (rounded to odd, ≥ 3)
 * @param flipP probability of a horizontal flip
 * @param mean per-channel mean subtracted after scaling to [0, 1] (length C)
 * @param std per-channel standard deviation divided by (length C)
 */
public record AugmentConfig(
    int size,
    int channels,
    double cropScaleMin,
    double cropScaleMax,
    double cropRatioMin,
    double cropRatioMax,
    double jitterP,
    double brightness,
    double contrast,
    double saturation,
    double hue,
    double grayscaleP,
    boolean grayscaleBeforeJitter,
    double blurP,
    double blurSigmaMin,
    double blurSigmaMax,
    double blurKernelFraction,
    double flipP,
    float[] mean,
    float[] std) {

  /** torchvision/ImageNet RGB mean, MoCo's default normalisation. */
  public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};

  /** torchvision/ImageNet RGB standard deviation. */
  public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

  /** Neutral grey normalisation (maps [0, 1] to [−1, 1]): the default for 1-channel output. */
  public static final float[] GREY_MEAN = {0.5f};

  /** Neutral grey standard deviation. */
  public static final float[] GREY_STD = {0.5f};

  /** Fashion-MNIST training-set pixel mean. */
  public static final float[] FASHION_MNIST_MEAN = {0.2860f};

  /** Fashion-MNIST training-set pixel standard deviation. */
  public static final float[] FASHION_MNIST_STD = {0.3530f};

  public AugmentConfig {
    if (size < 1) {
      throw new IllegalArgumentException("size must be ≥ 1, got " + size);
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }
    if (!(cropScaleMin > 0 && cropScaleMin <= cropScaleMax && cropScaleMax <= 1)) {
      throw new IllegalArgumentException(
          "crop scale must satisfy 0 < min ≤ max ≤ 1, got ["
              + cropScaleMin
              + ", "
              + cropScaleMax
              + "]");
    }
    if (!(cropRatioMin > 0 && cropRatioMin <= cropRatioMax)) {
      throw new IllegalArgumentException(
          "crop ratio must satisfy 0 < min ≤ max, got ["
              + cropRatioMin
              + ", "
              + cropRatioMax
              + "]");
    }
    probability("jitterP", jitterP);
    probability("grayscaleP", grayscaleP);
    probability("blurP", blurP);
    probability("flipP", flipP);
    if (brightness < 0 || contrast < 0 || saturation < 0) {
      throw new IllegalArgumentException(
          "brightness/contrast/saturation must be ≥ 0, got "
              + brightness
              + "/"
              + contrast
              + "/"
              + saturation);
    }
    if (hue < 0 || hue > 0.5) {
      throw new IllegalArgumentException("hue must be in [0, 0.5], got " + hue);
    }
    if (!(blurSigmaMin > 0 && blurSigmaMin <= blurSigmaMax)) {
      throw new IllegalArgumentException(
          "blur sigma must satisfy 0 < min ≤ max, got ["
              + blurSigmaMin
              + ", "
              + blurSigmaMax
              + "]");
    }
    if (!(blurKernelFraction > 0 && blurKernelFraction <= 1)) {
      throw new IllegalArgumentException(
          "blurKernelFraction must be in (0, 1], got " + blurKernelFraction);
    }
    if (mean == null || std == null || mean.length != channels || std.length != channels) {
      throw new IllegalArgumentException(
          "mean and std need "
              + channels
              + " values each, got "
              + Arrays.toString(mean)
              + " and "
              + Arrays.toString(std));
    }
    mean = mean.clone();
    std = std.clone();
    for (float s : std) {
      if (!(s > 0)) {
        throw new IllegalArgumentException("std must be positive, got " + Arrays.toString(std));
      }
    }
  }

  /** MoCo v2's aug+ at output size {@code size} with {@code channels} output channels. */
  public static AugmentConfig mocoV2(int size, int channels) {
    return new AugmentConfig(
        size,
        channels,
        0.2,
        1.0,
        3.0 / 4.0,
        4.0 / 3.0,
        0.8,
        0.4,
        0.4,
        0.4,
        0.1,
        0.2,
        false,
        0.5,
        0.1,
        2.0,
        0.1,
        0.5,
        defaultMean(channels),
        defaultStd(channels));
  }

  /** MoCo v1's augmentation at output size {@code size} with {@code channels} output channels. */
  public static AugmentConfig mocoV1(int size, int channels) {
    return new AugmentConfig(
        size,
        channels,
        0.2,
        1.0,
        3.0 / 4.0,
        4.0 / 3.0,
        1.0,
        0.4,
        0.4,
        0.4,
        0.4,
        0.2,
        true,
        0.0,
        0.1,
        2.0,
        0.1,
        0.5,
        defaultMean(channels),
        defaultStd(channels));
  }

  /** ImageNet's mean for RGB, 0.5 for grey. */
  public static float[] defaultMean(int channels) {
    return channels == 3 ? IMAGENET_MEAN.clone() : GREY_MEAN.clone();
  }

  /** ImageNet's standard deviation for RGB, 0.5 for grey. */
  public static float[] defaultStd(int channels) {
    return channels == 3 ? IMAGENET_STD.clone() : GREY_STD.clone();
  }

  /** Floats per view: C × S × S. */
  public int viewLength() {
    return channels * size * size;
  }

  /** Blur kernel taps: {@code blurKernelFraction × size} rounded to an odd number, at least 3. */
  public int blurKernelSize() {
    int k = (int) Math.round(blurKernelFraction * size);
    if (k % 2 == 0) {
      k++;
    }
    return Math.max(3, k);
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  /** This configuration with another normalisation. */
  public AugmentConfig withNormalization(float[] newMean, float[] newStd) {
    return new AugmentConfig(
        size,
        channels,
        cropScaleMin,
        cropScaleMax,
        cropRatioMin,
        cropRatioMax,
        jitterP,
        brightness,
        contrast,
        saturation,
        hue,
        grayscaleP,
        grayscaleBeforeJitter,
        blurP,
        blurSigmaMin,
        blurSigmaMax,
        blurKernelFraction,
        flipP,
        newMean,
        newStd);
  }

  /** This configuration with another blur probability (0 turns blur off). */
  public AugmentConfig withBlurP(double newBlurP) {
    return new AugmentConfig(
        size,
        channels,
        cropScaleMin,
        cropScaleMax,
        cropRatioMin,
        cropRatioMax,
        jitterP,
        brightness,
        contrast,
        saturation,
        hue,
        grayscaleP,
        grayscaleBeforeJitter,
        newBlurP,
        blurSigmaMin,
        blurSigmaMax,
        blurKernelFraction,
        flipP,
        mean,
        std);
  }

  /** This configuration with another RandomResizedCrop scale range. */
  public AugmentConfig withCropScale(double min, double max) {
    return new AugmentConfig(
        size,
        channels,
        min,
        max,
        cropRatioMin,
        cropRatioMax,
        jitterP,
        brightness,
        contrast,
        saturation,
        hue,
        grayscaleP,
        grayscaleBeforeJitter,
        blurP,
        blurSigmaMin,
        blurSigmaMax,
        blurKernelFraction,
        flipP,
        mean,
        std);
  }

  /** This configuration with other ColorJitter strengths and probability. */
  public AugmentConfig withJitter(
      double p, double newBrightness, double newContrast, double newSaturation, double newHue) {
    return new AugmentConfig(
        size,
        channels,
        cropScaleMin,
        cropScaleMax,
        cropRatioMin,
        cropRatioMax,
        p,
        newBrightness,
        newContrast,
        newSaturation,
        newHue,
        grayscaleP,
        grayscaleBeforeJitter,
        blurP,
        blurSigmaMin,
        blurSigmaMax,
        blurKernelFraction,
        flipP,
        mean,
        std);
  }

  /** This configuration with other grayscale and flip probabilities. */
  public AugmentConfig withGrayscaleAndFlip(double newGrayscaleP, double newFlipP) {
    return new AugmentConfig(
        size,
        channels,
        cropScaleMin,
        cropScaleMax,
        cropRatioMin,
        cropRatioMax,
        jitterP,
        brightness,
        contrast,
        saturation,
        hue,
        newGrayscaleP,
        grayscaleBeforeJitter,
        blurP,
        blurSigmaMin,
        blurSigmaMax,
        blurKernelFraction,
        newFlipP,
        mean,
        std);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AugmentConfig c && c.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public String toString() {
    return "AugmentConfig[size="
        + size
        + ", channels="
        + channels
        + ", cropScale=["
        + cropScaleMin
        + ", "
        + cropScaleMax
        + "], cropRatio=["
        + cropRatioMin
        + ", "
        + cropRatioMax
        + "], jitterP="
        + jitterP
        + ", jitter=("
        + brightness
        + ", "
        + contrast
        + ", "
        + saturation
        + ", "
        + hue
        + "), grayscaleP="
        + grayscaleP
        + ", grayscaleBeforeJitter="
        + grayscaleBeforeJitter
        + ", blurP="
        + blurP
        + ", blurSigma=["
        + blurSigmaMin
        + ", "
        + blurSigmaMax
        + "], blurKernelFraction="
        + blurKernelFraction
        + ", flipP="
        + flipP
        + ", mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + "]";
  }

  private static void probability(String name, double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException(name + " must be in [0, 1], got " + p);
    }
  }
}
