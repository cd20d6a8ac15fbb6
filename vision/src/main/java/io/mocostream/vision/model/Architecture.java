package io.mocostream.vision.model;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What an encoder is built from: backbone, projection head, and input geometry. Everything needed
 * to rebuild the same blocks and load weights into them, and nothing else.
 *
 * <p>Text form (what {@link #toString()} writes and {@link #parse(String)} reads): a backbone name,
 * optionally followed by comma-separated overrides, e.g. {@code "resnet18-narrow"} or {@code
 * "resnet18-narrow,width=32,head=mlp,dim=128,channels=1,size=28"}.
 *
 * @param backbone {@value #RESNET18_CIFAR} (3×3 stem, no max-pool, inputs up to 64 px), {@value
 *     #RESNET18_NARROW} (the same with a width of {@value #NARROW_WIDTH}: trains in minutes on a
 *     CPU), or {@value #RESNET50} (bottleneck units, ImageNet 7×7 stem + max-pool, 224 px)
 * @param width channels of the first stage (64 for the published networks); stages use 1, 2, 4, 8 ×
 *     width (×4 again for ResNet-50's bottleneck outputs)
 * @param head {@value #HEAD_MLP} (MoCo v2: feature→feature, ReLU, →dim) or {@value #HEAD_LINEAR}
 *     (v1: →dim)
 * @param embeddingDim output dimension of the head (128 in MoCo)
 * @param channels input channels: 1 (grey) or 3 (RGB)
 * @param inputSize square input side in pixels
 */
public record Architecture(
    String backbone, int width, String head, int embeddingDim, int channels, int inputSize) {

  public static final String RESNET18_CIFAR = "resnet18-cifar";
  public static final String RESNET18_NARROW = "resnet18-narrow";
  public static final String RESNET50 = "resnet50";
  public static final String HEAD_MLP = "mlp";
  public static final String HEAD_LINEAR = "linear";

  /** Width of {@value #RESNET18_NARROW}: 16 channels in the first stage, 128-d features. */
  public static final int NARROW_WIDTH = 16;

  public Architecture {
    Objects.requireNonNull(backbone, "backbone");
    Objects.requireNonNull(head, "head");
    if (!backbone.equals(RESNET18_CIFAR)
        && !backbone.equals(RESNET18_NARROW)
        && !backbone.equals(RESNET50)) {
      throw new IllegalArgumentException(
          "backbone '"
              + backbone
              + "' is unknown; expected one of "
              + RESNET18_CIFAR
              + ", "
              + RESNET18_NARROW
              + ", "
              + RESNET50);
    }
    if (!head.equals(HEAD_MLP) && !head.equals(HEAD_LINEAR)) {
      throw new IllegalArgumentException("head '" + head + "' is unknown; expected mlp or linear");
    }
    if (width < 1 || width > 1024) {
      throw new IllegalArgumentException("width " + width + " is out of range 1..1024");
    }
    if (backbone.equals(RESNET50) && width % 4 != 0) {
      // bottleneck units use width/4·4 inner channels; DJL divides the unit's filters by 4
      throw new IllegalArgumentException(
          "width " + width + " must be a multiple of 4 for " + RESNET50);
    }
    if (embeddingDim < 1 || embeddingDim > 65536) {
      throw new IllegalArgumentException(
          "embeddingDim " + embeddingDim + " is out of range 1..65536");
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels " + channels + " must be 1 (grey) or 3 (RGB)");
    }
    int min = backbone.equals(RESNET50) ? 32 : 8;
    int max = backbone.equals(RESNET50) ? 512 : 64;
    if (inputSize < min || inputSize > max) {
      // resnet18-cifar keeps full resolution through stage 1 (no stride-2 stem): beyond 64 px use
      // resnet50
      throw new IllegalArgumentException(
          "inputSize " + inputSize + " is out of range " + min + ".." + max + " for " + backbone);
    }
  }

  /** The CIFAR-style ResNet-18 (width 64) with MoCo v2's MLP head, 128-d, RGB 32×32. */
  public static Architecture resnet18Cifar() {
    return parse(RESNET18_CIFAR);
  }

  /** A narrow ResNet-18 for CPU tests and demos. */
  public static Architecture resnet18Narrow(int channels, int inputSize) {
    return new Architecture(RESNET18_NARROW, NARROW_WIDTH, HEAD_MLP, 128, channels, inputSize);
  }

  /**
   * Parses the text form (see the class comment). Unknown keys and malformed numbers are refused
   * with the offending text.
   */
  public static Architecture parse(String text) {
    Objects.requireNonNull(text, "architecture text");
    String[] parts = text.trim().split(",");
    String backbone = parts[0].trim().toLowerCase(Locale.ROOT);
    int width =
        switch (backbone) {
          case RESNET18_NARROW -> NARROW_WIDTH;
          case RESNET18_CIFAR, RESNET50 -> 64;
          default ->
              throw new IllegalArgumentException(
                  "architecture '"
                      + text
                      + "': backbone '"
                      + backbone
                      + "' is unknown; expected one of "
                      + RESNET18_CIFAR
                      + ", "
                      + RESNET18_NARROW
                      + ", "
                      + RESNET50);
        };
    String head = HEAD_MLP;
    int dim = 128;
    int channels = 3;
    int size = backbone.equals(RESNET50) ? 224 : 32;
    for (int i = 1; i < parts.length; i++) {
      String part = parts[i].trim();
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "architecture '" + text + "': '" + part + "' is not key=value");
      }
      String key = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      String value = part.substring(eq + 1).trim();
      switch (key) {
        case "width" -> width = parseInt(text, key, value);
        case "head" -> head = value.toLowerCase(Locale.ROOT);
        case "dim" -> dim = parseInt(text, key, value);
        case "channels" -> channels = parseInt(text, key, value);
        case "size" -> size = parseInt(text, key, value);
        default ->
            throw new IllegalArgumentException(
                "architecture '"
                    + text
                    + "': unknown key '"
                    + key
                    + "'; expected width, head, dim, channels or size");
      }
    }
    return new Architecture(backbone, width, head, dim, channels, size);
  }

  private static int parseInt(String text, String key, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "architecture '" + text + "': " + key + "='" + value + "' is not an integer", e);
    }
  }

  /** Dimension of the backbone's pooled features: 8·width for ResNet-18, 32·width for ResNet-50. */
  public int featureDim() {
    return backbone.equals(RESNET50) ? 32 * width : 8 * width;
  }

  /** Floats in one input image: channels × inputSize × inputSize. */
  public int imageFloats() {
    return channels * inputSize * inputSize;
  }

  public Architecture withInput(int newChannels, int newInputSize) {
    return new Architecture(backbone, width, head, embeddingDim, newChannels, newInputSize);
  }

  public Architecture withHead(String newHead, int newEmbeddingDim) {
    return new Architecture(backbone, width, newHead, newEmbeddingDim, channels, inputSize);
  }

  public Architecture withWidth(int newWidth) {
    return new Architecture(backbone, newWidth, head, embeddingDim, channels, inputSize);
  }

  /**
   * Settings beyond the manifest's fixed fields, for the {@code params} map of the EncoderVersion
   * schema.
   */
  public Map<String, String> params() {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("width", Integer.toString(width));
    return params;
  }

  /** The Avro manifest's architecture record. */
  public io.mocostream.schemas.ArchitectureSpec toAvro() {
    return io.mocostream.schemas.ArchitectureSpec.newBuilder()
        .setBackbone(backbone)
        .setHead(head)
        .setEmbeddingDim(embeddingDim)
        .setFeatureDim(featureDim())
        .setChannels(channels)
        .setInputSize(inputSize)
        .setParams(params())
        .build();
  }

  /** Reads the Avro manifest's architecture record; a featureDim that does not match is refused. */
  public static Architecture fromAvro(io.mocostream.schemas.ArchitectureSpec spec) {
    String widthText = spec.getParams().get("width");
    int width;
    if (widthText == null) {
      width = parse(spec.getBackbone()).width();
    } else {
      width = parseInt(spec.toString(), "width", widthText);
    }
    Architecture arch =
        new Architecture(
            spec.getBackbone(),
            width,
            spec.getHead(),
            spec.getEmbeddingDim(),
            spec.getChannels(),
            spec.getInputSize());
    if (arch.featureDim() != spec.getFeatureDim()) {
      throw new IllegalArgumentException(
          "architecture "
              + arch
              + " has featureDim "
              + arch.featureDim()
              + " but the manifest says "
              + spec.getFeatureDim());
    }
    return arch;
  }

  @Override
  public String toString() {
    return backbone
        + ",width="
        + width
        + ",head="
        + head
        + ",dim="
        + embeddingDim
        + ",channels="
        + channels
        + ",size="
        + inputSize;
  }
}
