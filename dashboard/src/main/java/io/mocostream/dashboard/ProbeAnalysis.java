package io.mocostream.dashboard;

import io.mocostream.schemas.EncoderVersion;
import io.mocostream.trainer.data.Datasets;
import io.mocostream.trainer.data.IdxDataset;
import io.mocostream.trainer.eval.Evaluation;
import io.mocostream.trainer.eval.KnnMonitor;
import io.mocostream.trainer.eval.ProbeSet;
import io.mocostream.vision.augment.AugmentConfig;
import io.mocostream.vision.augment.Augmenter;
import io.mocostream.vision.model.Architecture;
import io.mocostream.vision.model.Encoder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the dashboard computes itself, on the labelled probe the demo's trainer scores its versions
 * on (Fashion-MNIST: a class-balanced bank from the training split, the first queries of the test
 * split, as {@code ProbeLoader} builds it): the raw-pixel and random-init kNN baselines of an
 * architecture, and the nearest-neighbour strip of a verified version (a few query images and the
 * five bank images nearest to each under that version's features, by cosine). Runs on one analysis
 * thread; baselines are computed once per architecture.
 */
final class ProbeAnalysis {
  /** Query images shown in the neighbour strip. */
  static final int STRIP_QUERIES = 4;

  static final int NEIGHBOURS = 5;
  private static final int BLOCK = 256;

  private final String spec;
  private final int bankSize;
  private final int querySize;
  private IdxDataset bank;
  private IdxDataset queries;
  private String description;
  private final Map<Architecture, Map<String, Object>> baselines = new HashMap<>();

  ProbeAnalysis(String spec, int bankSize, int querySize) {
    this.spec = spec;
    this.bankSize = bankSize;
    this.querySize = querySize;
  }

  boolean enabled() {
    return !spec.isEmpty();
  }

  private void load() throws IOException {
    if (bank != null) {
      return;
    }
    if (spec.equalsIgnoreCase("fashion-mnist")) {
      Datasets.Splits s = Datasets.fashionMnist();
      bank = s.train().balanced(Math.max(1, bankSize / s.train().numClasses()));
      queries = s.test().first(Math.min(querySize, s.test().size()));
    } else {
      String[] files = spec.split(",");
      if (files.length != 2) {
        throw new IllegalArgumentException(
            "probe '" + spec + "': expected IMAGES,LABELS or fashion-mnist");
      }
      IdxDataset all = IdxDataset.read(Path.of(files[0].trim()), Path.of(files[1].trim()));
      int b = Math.min(bankSize, all.size() - 1);
      bank = all.first(b);
      queries = all.slice(b, b + Math.min(querySize, all.size() - b));
    }
    description =
        bank.size()
            + " bank images from "
            + fileName(bank.source())
            + ", "
            + queries.size()
            + " queries from "
            + fileName(queries.source());
  }

  /**
   * kNN top-1 of raw pixels and of the architecture at random initialisation (seed 0, as {@code
   * eval}'s default).
   */
  Map<String, Object> baselines(Architecture arch) throws IOException {
    Map<String, Object> known = baselines.get(arch);
    if (known != null) {
      return known;
    }
    load();
    Augmenter centre = new Augmenter(AugmentConfig.mocoV2(arch.inputSize(), arch.channels()));
    ProbeSet probe = ProbeSet.of(bank, queries, centre);
    KnnMonitor knn = new KnnMonitor();
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("architecture", arch.toString());
    b.put("probe", description);
    b.put("rawPixels", probe.rawPixelsTop1(knn));
    try (Encoder random = Evaluation.randomInit(arch, Evaluation.DEFAULT_RANDOM_INIT_SEED)) {
      b.put("randomInit", probe.knnTop1(Evaluation.extractor(random), knn));
    }
    b.put("randomInitSeed", Evaluation.DEFAULT_RANDOM_INIT_SEED);
    baselines.put(arch, b);
    return b;
  }

  /** The neighbour strip of a verified version whose weights are {@code payload}. */
  Map<String, Object> neighbours(EncoderVersion m, Architecture arch, byte[] payload)
      throws IOException {
    load();
    Augmenter centre = new Augmenter(AugmentConfig.mocoV2(arch.inputSize(), arch.channels()));
    int q = Math.min(STRIP_QUERIES, queries.size());
    try (Encoder encoder = Encoder.load(arch, payload)) {
      float[] bankF = features(encoder, centre, bank, 0, bank.size()); // bank × F, L2-normalised
      float[] queryF = features(encoder, centre, queries, 0, q); // q × F
      int dim = encoder.featureDim();
      List<Map<String, Object>> rows = new ArrayList<>();
      for (int i = 0; i < q; i++) {
        int[] best = new int[NEIGHBOURS];
        float[] sims = new float[NEIGHBOURS];
        java.util.Arrays.fill(best, -1);
        java.util.Arrays.fill(sims, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < bank.size(); j++) {
          float s = 0;
          for (int d = 0; d < dim; d++) {
            s += queryF[i * dim + d] * bankF[j * dim + d];
          }
          // insertion into the sorted top-k (k = 5)
          for (int k = 0; k < NEIGHBOURS; k++) {
            if (s > sims[k]) {
              System.arraycopy(sims, k, sims, k + 1, NEIGHBOURS - k - 1);
              System.arraycopy(best, k, best, k + 1, NEIGHBOURS - k - 1);
              sims[k] = s;
              best[k] = j;
              break;
            }
          }
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("image", Images.png(queries.image(i)));
        row.put("label", label(queries.label(i)));
        List<Map<String, Object>> ns = new ArrayList<>();
        for (int k = 0; k < NEIGHBOURS && best[k] >= 0; k++) {
          Map<String, Object> n = new LinkedHashMap<>();
          n.put("image", Images.png(bank.image(best[k])));
          n.put("label", label(bank.label(best[k])));
          n.put("similarity", sims[k]);
          ns.add(n);
        }
        row.put("neighbours", ns);
        rows.add(row);
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("version", m.getVersion());
      out.put("probe", description);
      out.put("queries", rows);
      return out;
    }
  }

  /** A dataset's source without its directories: {@code a.gz + b.gz[200/class]}. */
  private static String fileName(String source) {
    return source.replaceAll("(?<=^|\\s)/[^\\s\\[]*/", "");
  }

  private static String label(int l) {
    return l >= 0 && l < Datasets.FASHION_MNIST_CLASSES.size()
        ? Datasets.FASHION_MNIST_CLASSES.get(l)
        : "class " + l;
  }

  /** Backbone features of images [from, to) of {@code d}, each row L2-normalised: (to-from) × F. */
  private static float[] features(
      Encoder encoder, Augmenter centre, IdxDataset d, int from, int to) {
    int len = centre.viewLength();
    int dim = encoder.featureDim();
    int n = to - from;
    float[] out = new float[Math.multiplyExact(n, dim)];
    for (int start = 0; start < n; start += BLOCK) {
      int m = Math.min(BLOCK, n - start);
      float[] x = new float[m * len]; // m×C×S×S
      for (int i = 0; i < m; i++) {
        centre.center(d.image(from + start + i), x, i * len);
      }
      float[] f = encoder.features(x, m);
      System.arraycopy(f, 0, out, start * dim, m * dim);
    }
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (int k = 0; k < dim; k++) {
        sum += (double) out[i * dim + k] * out[i * dim + k];
      }
      float inv = sum > 0 ? (float) (1 / Math.sqrt(sum)) : 0f;
      for (int k = 0; k < dim; k++) {
        out[i * dim + k] *= inv;
      }
    }
    return out;
  }
}
