package io.mocostream.trainer.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds labelled image sets that can be had offline.
 *
 * <p>Fashion-MNIST (Zalando Research, MIT licence): the full set from the Debian package {@code
 * dataset-fashion-mnist} when installed, else a class-balanced mini set shipped in this jar (2,000
 * train + 500 test images, see {@code datasets/fashion-mnist-mini/README.md}).
 */
public final class Datasets {

  private static final Logger LOG = LoggerFactory.getLogger(Datasets.class);

  /** Where Debian's {@code dataset-fashion-mnist} puts the IDX files. */
  public static final Path DEBIAN_FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** System property naming another directory holding the four Fashion-MNIST IDX files. */
  public static final String FASHION_MNIST_DIR_PROPERTY = "mocostream.fashion-mnist.dir";

  /** Class-path folder of the shipped mini set. */
  public static final String FASHION_MNIST_MINI_RESOURCE = "/datasets/fashion-mnist-mini/";

  /** Fashion-MNIST class names, by label. */
  public static final List<String> FASHION_MNIST_CLASSES =
      List.of(
          "T-shirt/top",
          "Trouser",
          "Pullover",
          "Dress",
          "Coat",
          "Sandal",
          "Shirt",
          "Sneaker",
          "Bag",
          "Ankle boot");

  private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  private static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  private static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

  private Datasets() {}

  /**
   * A labelled train/test pair.
   *
   * @param train training split (memory bank for kNN, or MoCo training images)
   * @param test held-out split (kNN queries)
   * @param source human-readable origin, e.g. the directory or "shipped mini set"
   * @param mini true when this is the small shipped subset, not the full set
   */
  public record Splits(IdxDataset train, IdxDataset test, String source, boolean mini) {}

  /**
   * Fashion-MNIST: the directory named by {@value #FASHION_MNIST_DIR_PROPERTY} if set, else the
   * Debian package's files if present, else the shipped mini set. Logs which one it used.
   */
  public static Splits fashionMnist() throws IOException {
    String dir = System.getProperty(FASHION_MNIST_DIR_PROPERTY);
    if (dir != null && !dir.isBlank()) {
      return fashionMnist(Path.of(dir));
    }
    if (hasFashionMnist(DEBIAN_FASHION_MNIST_DIR)) {
      return fashionMnist(DEBIAN_FASHION_MNIST_DIR);
    }
    LOG.info(
        "Fashion-MNIST not found in {} (apt-get install dataset-fashion-mnist); using the shipped mini set",
        DEBIAN_FASHION_MNIST_DIR);
    return fashionMnistMini();
  }

  /** Fashion-MNIST from a directory holding the four IDX files, gzipped ({@code .gz}) or not. */
  public static Splits fashionMnist(Path dir) throws IOException {
    IdxDataset train = IdxDataset.read(find(dir, TRAIN_IMAGES), find(dir, TRAIN_LABELS));
    IdxDataset test = IdxDataset.read(find(dir, TEST_IMAGES), find(dir, TEST_LABELS));
    LOG.info("Fashion-MNIST from {}: {} train, {} test images", dir, train.size(), test.size());
    return new Splits(train, test, dir.toString(), false);
  }

  /**
   * The mini Fashion-MNIST shipped in this jar: 2,000 train and 500 test images, balanced over
   * classes.
   */
  public static Splits fashionMnistMini() throws IOException {
    IdxDataset train = resource(TRAIN_IMAGES + ".gz", TRAIN_LABELS + ".gz");
    IdxDataset test = resource(TEST_IMAGES + ".gz", TEST_LABELS + ".gz");
    LOG.info(
        "Fashion-MNIST mini set (shipped): {} train, {} test images", train.size(), test.size());
    return new Splits(train, test, "shipped mini set " + FASHION_MNIST_MINI_RESOURCE, true);
  }

  /** True if {@code dir} holds the four Fashion-MNIST IDX files (gzipped or not). */
  public static boolean hasFashionMnist(Path dir) {
    for (String name : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
      if (!Files.isRegularFile(dir.resolve(name + ".gz"))
          && !Files.isRegularFile(dir.resolve(name))) {
        return false;
      }
    }
    return true;
  }

  private static Path find(Path dir, String name) throws IOException {
    Path gz = dir.resolve(name + ".gz");
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    Path plain = dir.resolve(name);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    throw new IOException("no " + name + "[.gz] in " + dir);
  }

  private static IdxDataset resource(String images, String labels) throws IOException {
    String ip = FASHION_MNIST_MINI_RESOURCE + images;
    String lp = FASHION_MNIST_MINI_RESOURCE + labels;
    try (InputStream in = Datasets.class.getResourceAsStream(ip);
        InputStream lin = Datasets.class.getResourceAsStream(lp)) {
      if (in == null || lin == null) {
        throw new IOException(
            "class-path resource " + (in == null ? ip : lp) + " is missing from the jar");
      }
      return IdxDataset.read("classpath:" + ip, in, "classpath:" + lp, lin);
    }
  }
}
