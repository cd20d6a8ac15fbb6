package io.mocostream.vision.augment;

import java.util.List;

/**
 * The random choices behind one augmented view, drawn by {@link Augmenter#draw}: enough to log,
 * inspect or re-apply a view ({@link Augmenter#apply}).
 *
 * @param cropX left column of the crop in the source image
 * @param cropY top row of the crop
 * @param cropW crop width in source pixels
 * @param cropH crop height in source pixels
 * @param jitter whether ColorJitter is applied
 * @param jitterOrder order of the four jitter operations (torchvision's random permutation)
 * @param brightness brightness factor
 * @param contrast contrast factor
 * @param saturation saturation factor
 * @param hue hue shift, in turns
 * @param grayscale whether RandomGrayscale fires
 * @param blurSigma Gaussian blur σ in output pixels, 0 for no blur
 * @param flip whether the view is mirrored left-right
 */
public record ViewParams(
    int cropX,
    int cropY,
    int cropW,
    int cropH,
    boolean jitter,
    List<JitterOp> jitterOrder,
    float brightness,
    float contrast,
    float saturation,
    float hue,
    boolean grayscale,
    float blurSigma,
    boolean flip) {

  /** The four ColorJitter operations. */
  public enum JitterOp {
    BRIGHTNESS,
    CONTRAST,
    SATURATION,
    HUE
  }

  public ViewParams {
    jitterOrder = List.copyOf(jitterOrder);
  }

  /** Crop area as a fraction of the source image area. */
  public double cropAreaFraction(int sourceWidth, int sourceHeight) {
    return (double) cropW * cropH / ((double) sourceWidth * sourceHeight);
  }
}
