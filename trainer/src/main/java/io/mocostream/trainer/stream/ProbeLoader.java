package io.mocostream.trainer.stream;

import io.mocostream.trainer.data.Datasets;
import io.mocostream.trainer.data.IdxDataset;
import io.mocostream.trainer.eval.ProbeSet;
import io.mocostream.vision.augment.Augmenter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Loads the kNN monitor's labelled probe named by {@code trainer.probe}. */
public final class ProbeLoader {
  private static final Logger log = LoggerFactory.getLogger(ProbeLoader.class);

  private ProbeLoader() {}

  /**
   * {@code ""}: no probe (versions carry no kNN figure). {@code fashion-mnist}: bank from its
   * training split, queries from its test split. {@code IMAGES,LABELS}: IDX files; the first {@code
   * probe.bank} images are the bank and the next {@code probe.queries} the queries.
   */
  public static ProbeSet load(TrainerConfig config) {
    String spec = config.probe().trim();
    if (spec.isEmpty()) {
      return null;
    }
    Augmenter centre = new Augmenter(config.augment());
    try {
      ProbeSet probe;
      if (spec.equalsIgnoreCase("fashion-mnist")) {
        Datasets.Splits splits = Datasets.fashionMnist();
        probe =
            ProbeSet.of(
                splits
                    .train()
                    .balanced(Math.max(1, config.probeBank() / splits.train().numClasses())),
                splits.test().first(Math.min(config.probeQueries(), splits.test().size())),
                centre);
      } else {
        String[] files = spec.split(",");
        if (files.length != 2) {
          throw new IllegalArgumentException(
              "trainer.probe '" + spec + "': expected IMAGES,LABELS or fashion-mnist");
        }
        IdxDataset all = IdxDataset.read(Path.of(files[0].trim()), Path.of(files[1].trim()));
        int bank = Math.min(config.probeBank(), all.size() - 1);
        int queries = Math.min(config.probeQueries(), all.size() - bank);
        probe = ProbeSet.of(all.first(bank), all.slice(bank, bank + queries), centre);
      }
      log.info("kNN probe: {}", probe.description());
      return probe;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the probe set '" + spec + "': " + e.getMessage(), e);
    }
  }
}
