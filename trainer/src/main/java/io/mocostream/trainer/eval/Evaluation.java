package io.mocostream.trainer.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.SequentialBlock;
import io.mocostream.trainer.data.Datasets;
import io.mocostream.trainer.data.IdxDataset;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import io.mocostream.vision.model.Encoders;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code mocostream eval} computes: the weighted-kNN top-1 accuracy of an encoder on a
 * labelled probe, next to two baselines that give the number its meaning: (a) the encoder, (b) raw
 * pixels (the same kNN on the normalised input pixels), (c) the same architecture at random
 * initialisation (seeded). An encoder that learnt something beats (c) clearly; on Fashion-MNIST raw
 * pixels are a strong baseline (≈ 85 % with the full set), which a small CPU-trained encoder need
 * not beat.
 *
 * <p>Probe: by default the first {@value #DEFAULT_BANK} Fashion-MNIST training images are the
 * memory bank and the first {@value #DEFAULT_QUERIES} test images the queries ({@link
 * Datasets#fashionMnist()}: the Debian set, else the shipped mini set). With {@code --idx} (and
 * {@code --train-idx}) other IDX files are used; see {@link #probe}. Images are fed as {@link
 * Augmenter#center} views at the architecture's size and channels, normalised as training
 * normalises them (by default {@link AugmentConfig#defaultMean}/{@code defaultStd}).
 */
public final class Evaluation {

  private static final Logger LOG = LoggerFactory.getLogger(Evaluation.class);

  /** Default memory-bank size ({@code --bank}). */
  public static final int DEFAULT_BANK = 5000;

  /** Default number of query images ({@code --queries}). */
  public static final int DEFAULT_QUERIES = 1000;

  /** Default seed of the random-init baseline ({@code --seed}). */
  public static final long DEFAULT_RANDOM_INIT_SEED = 0;

  private Evaluation() {}

  /**
   * How to evaluate. Paths may be null (see {@link #probe}); {@code mean}/{@code std} null means
   * the default for the architecture's channel count.
   *
   * @param modelFile encoder file ({@link EncoderFile}); null when the encoder is passed in
   * @param queryImages {@code --idx} images file
   * @param queryLabels {@code --idx} labels file
   * @param bankImages {@code --train-idx} images file
   * @param bankLabels {@code --train-idx} labels file
   * @param bankSize memory-bank images at most
   * @param querySize query images at most
   * @param randomInitSeed seed of the random-init baseline (the engine's initialisation, {@link
   *     Encoders#initialize})
   * @param k kNN neighbours
   * @param temperature kNN τ
   * @param mean input normalisation mean per channel, or null
   * @param std input normalisation standard deviation per channel, or null
   */
  public record Options(
      Path modelFile,
      Path queryImages,
      Path queryLabels,
      Path bankImages,
      Path bankLabels,
      int bankSize,
      int querySize,
      long randomInitSeed,
      int k,
      float temperature,
      float[] mean,
      float[] std) {

    public Options {
      if (bankSize < 1 || querySize < 1) {
        throw new IllegalArgumentException(
            "--bank and --queries must be ≥ 1, got " + bankSize + " and " + querySize);
      }
      if ((queryImages == null) != (queryLabels == null)
          || (bankImages == null) != (bankLabels == null)) {
        throw new IllegalArgumentException("IDX sets need both an images and a labels file");
      }
      if (bankImages != null && queryImages == null) {
        throw new IllegalArgumentException("--train-idx needs --idx (the query set)");
      }
    }

    /**
     * Defaults: Fashion-MNIST probe, 5,000 bank and 1,000 query images, k = 200, τ = 0.1, seed 0.
     */
    public static Options defaults(Path modelFile) {
      return new Options(
          modelFile,
          null,
          null,
          null,
          null,
          DEFAULT_BANK,
          DEFAULT_QUERIES,
          DEFAULT_RANDOM_INIT_SEED,
          KnnMonitor.DEFAULT_K,
          KnnMonitor.DEFAULT_TEMPERATURE,
          null,
          null);
    }

    /** Queries (and, unless {@link #withBankIdx} is given too, the bank) from these IDX files. */
    public Options withIdx(Path images, Path labels) {
      return new Options(
          modelFile,
          images,
          labels,
          bankImages,
          bankLabels,
          bankSize,
          querySize,
          randomInitSeed,
          k,
          temperature,
          mean,
          std);
    }

    /** The memory bank from these IDX files. */
    public Options withBankIdx(Path images, Path labels) {
      return new Options(
          modelFile,
          queryImages,
          queryLabels,
          images,
          labels,
          bankSize,
          querySize,
          randomInitSeed,
          k,
          temperature,
          mean,
          std);
    }

    public Options withSizes(int bank, int queries) {
      return new Options(
          modelFile,
          queryImages,
          queryLabels,
          bankImages,
          bankLabels,
          bank,
          queries,
          randomInitSeed,
          k,
          temperature,
          mean,
          std);
    }

    public Options withRandomInitSeed(long seed) {
      return new Options(
          modelFile,
          queryImages,
          queryLabels,
          bankImages,
          bankLabels,
          bankSize,
          querySize,
          seed,
          k,
          temperature,
          mean,
          std);
    }

    public Options withKnn(int newK, float newTemperature) {
      return new Options(
          modelFile,
          queryImages,
          queryLabels,
          bankImages,
          bankLabels,
          bankSize,
          querySize,
          randomInitSeed,
          newK,
          newTemperature,
          mean,
          std);
    }

    public Options withNormalization(float[] newMean, float[] newStd) {
      return new Options(
          modelFile,
          queryImages,
          queryLabels,
          bankImages,
          bankLabels,
          bankSize,
          querySize,
          randomInitSeed,
          k,
          temperature,
          newMean,
          newStd);
    }
  }

  /**
   * The three accuracies, fractions 0..1.
   *
   * @param knnTop1 the encoder's kNN top-1
   * @param rawPixels kNN top-1 on normalised raw pixels
   * @param randomInit kNN top-1 of the same architecture at random initialisation
   * @param bankSize memory-bank images used
   * @param querySize query images used
   * @param probe where the images came from
   * @param architecture the encoder's architecture
   */
  public record Result(
      double knnTop1,
      double rawPixels,
      double randomInit,
      int bankSize,
      int querySize,
      String probe,
      String architecture) {

    /**
     * {@code knn_top1=<x> raw_pixels=<y> random_init=<z>}, 4 decimals: the last line {@code eval}
     * prints.
     */
    public String summaryLine() {
      return String.format(
          Locale.ROOT,
          "knn_top1=%.4f raw_pixels=%.4f random_init=%.4f",
          knnTop1,
          rawPixels,
          randomInit);
    }

    /** Lines describing the run, ending with {@link #summaryLine()}. */
    public String report() {
      return "encoder: "
          + architecture
          + System.lineSeparator()
          + "probe: "
          + probe
          + System.lineSeparator()
          + summaryLine();
    }
  }

  /**
   * Splits an {@code IMAGES,LABELS} option value (as {@code --idx} and {@code --train-idx} take it)
   * into two paths; {@code option} names the option in the error.
   */
  public static Path[] parseIdxPair(String option, String value) {
    String[] parts = value == null ? new String[0] : value.split(",", -1);
    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
      throw new IllegalArgumentException(
          option
              + " expects IMAGES,LABELS (two IDX files separated by a comma),"
              + " got '"
              + value
              + "'");
    }
    return new Path[] {Path.of(parts[0].trim()), Path.of(parts[1].trim())};
  }

  /** Loads the encoder file named in {@code options} and evaluates it. */
  public static Result run(Options options) throws IOException {
    Objects.requireNonNull(options.modelFile(), "options.modelFile (--model-file)");
    EncoderFile file = EncoderFile.read(options.modelFile());
    try (Encoder encoder = Encoder.load(file.architecture(), file.weights())) {
      return run(encoder, options);
    }
  }

  /**
   * Evaluates an encoder already loaded (from a file or from the model topic); {@code modelFile} is
   * ignored.
   */
  public static Result run(Encoder encoder, Options options) throws IOException {
    Architecture arch = encoder.architecture();
    ProbeSet probe = probe(options, arch);
    try (Encoder random = randomInit(arch, options.randomInitSeed())) {
      return evaluate(
          extractor(encoder),
          extractor(random),
          probe,
          new KnnMonitor(options.k(), options.temperature(), null),
          arch.toString());
    }
  }

  /** The three accuracies on a prepared probe. */
  public static Result evaluate(
      FeatureExtractor encoder,
      FeatureExtractor randomInit,
      ProbeSet probe,
      KnnMonitor knn,
      String architecture) {
    long t0 = System.nanoTime();
    double trained = probe.knnTop1(encoder, knn);
    double raw = probe.rawPixelsTop1(knn);
    double random = probe.knnTop1(randomInit, knn);
    LOG.info(
        "kNN (k={}, τ={}) on {}: encoder {}, raw pixels {}, random init {} ({} ms)",
        knn.k(),
        knn.temperature(),
        probe.description(),
        trained,
        raw,
        random,
        (System.nanoTime() - t0) / 1_000_000);
    return new Result(
        trained,
        raw,
        random,
        probe.bankSize(),
        probe.querySize(),
        probe.description(),
        architecture);
  }

  /**
   * The probe images, as views for {@code arch}:
   *
   * <ul>
   *   <li>{@code --idx} and {@code --train-idx}: the first {@code bankSize} images of the latter
   *       are the bank, the first {@code querySize} of the former the queries;
   *   <li>{@code --idx} alone: one set split in two disjoint parts, the last min(querySize, size/2)
   *       images as queries, up to {@code bankSize} of those before them as the bank;
   *   <li>neither: Fashion-MNIST ({@link Datasets#fashionMnist()}), training images as the bank,
   *       test images as queries.
   * </ul>
   */
  public static ProbeSet probe(Options options, Architecture arch) throws IOException {
    IdxDataset bank;
    IdxDataset queries;
    if (options.queryImages() != null) {
      IdxDataset q = IdxDataset.read(options.queryImages(), options.queryLabels());
      if (options.bankImages() != null) {
        bank =
            IdxDataset.read(options.bankImages(), options.bankLabels()).first(options.bankSize());
        queries = q.first(options.querySize());
      } else {
        if (q.size() < 2) {
          throw new IllegalArgumentException(
              q.source() + " has " + q.size() + " images; a bank and queries need at least 2");
        }
        int nq = Math.min(options.querySize(), q.size() / 2);
        int nb = Math.min(options.bankSize(), q.size() - nq);
        queries = q.slice(q.size() - nq, q.size());
        bank = q.slice(q.size() - nq - nb, q.size() - nq);
      }
    } else {
      Datasets.Splits fm = Datasets.fashionMnist();
      bank = fm.train().first(options.bankSize());
      queries = fm.test().first(options.querySize());
    }
    float[] mean =
        options.mean() != null ? options.mean() : AugmentConfig.defaultMean(arch.channels());
    float[] std = options.std() != null ? options.std() : AugmentConfig.defaultStd(arch.channels());
    Augmenter centre =
        new Augmenter(
            AugmentConfig.mocoV2(arch.inputSize(), arch.channels()).withNormalization(mean, std));
    return ProbeSet.of(bank, queries, centre);
  }

  /** An {@link Encoder} as a {@link FeatureExtractor}: pooled backbone features. */
  public static FeatureExtractor extractor(Encoder encoder) {
    return FeatureExtractor.of(encoder.featureDim(), encoder::features);
  }

  /**
   * {@code arch}'s backbone as the engine initialises it from {@code seed} ({@link
   * Encoders#initialize}): with the training run's seed this is exactly the encoder training
   * started from.
   */
  public static Encoder randomInit(Architecture arch, long seed) {
    SequentialBlock backbone = Encoders.backbone(arch);
    SequentialBlock head = Encoders.head(arch);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (NDManager manager = NDManager.newBaseManager();
        DataOutputStream out = new DataOutputStream(bytes)) {
      Encoders.initialize(backbone, head, arch, manager, seed);
      backbone.saveParameters(out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Encoder.load(arch, bytes.toByteArray());
  }
}
