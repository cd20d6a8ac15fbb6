package io.mocostream.frames;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.registry.client.RegistryClientConfig;
import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.schemas.ImageFrame;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import io.mocostream.testkit.hostile.HostileFrames;
import io.mocostream.testkit.hostile.HostileFrames.Case;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every hostile case through the frame contract itself ({@link FrameReader} then {@link
 * ImageDecoder}, as each stage reads a record), against a real registry: the outcome each case
 * promises, and the same list for the same seed.
 */
@ExtendWith(KafkaClusterExtension.class)
class HostileFramesTest {
  private static final String TOPIC = "hostile.contract";

  @Test
  void everyCaseHasItsPromisedOutcome(KafkaCluster cluster) {
    HostileFrames.SchemaIds ids;
    try (SchemaRegistryClient client =
        new SchemaRegistryClient(RegistryClientConfig.of(cluster.registryUrl()))) {
      ids = HostileFrames.SchemaIds.register(client, TOPIC, "hostile.other-value");
    }
    List<Case> cases = HostileFrames.cases(ids, HostileFrames.DEFAULT_SEED);
    assertTrue(cases.size() >= 250, "at least 250 cases, got " + cases.size());
    List<String> wrong = new ArrayList<>();
    Map<String, int[]> counts = new TreeMap<>();
    ImageDecoder decoder = new ImageDecoder();
    try (FrameReader reader = FrameReader.forRegistry(cluster.registryUrl())) {
      for (Case c : cases) {
        String outcome;
        String detail = "";
        try {
          ImageFrame frame = reader.read(TOPIC, new RecordHeaders(), c.value(), c.name());
          DecodedImage image = decoder.decode(frame, c.name());
          assertTrue(
              image.pixelCount() <= decoder.decodePixels(), c.name() + " decoded over the budget");
          outcome = HostileFrames.ACCEPTED;
        } catch (FrameRejectedException e) {
          outcome = e.reason().name();
          detail = " (" + e.getMessage() + ")";
        } catch (Throwable t) {
          outcome = "THREW " + t;
        }
        if (!c.expected().contains(outcome)) {
          wrong.add(c.name() + ": expected " + c.expected() + ", got " + outcome + detail);
        }
        counts.computeIfAbsent(c.category(), k -> new int[2])[c.accepted() ? 0 : 1]++;
      }
    }
    counts.forEach(
        (k, v) -> System.out.printf("hostile cases %-9s accepted=%d rejected=%d%n", k, v[0], v[1]));
    assertEquals(
        List.of(), wrong, wrong.size() + " of " + cases.size() + " cases had another outcome");

    List<Case> again = HostileFrames.cases(ids, HostileFrames.DEFAULT_SEED);
    for (int i = 0; i < cases.size(); i++) {
      assertEquals(cases.get(i).name(), again.get(i).name());
      assertTrue(
          Arrays.equals(cases.get(i).value(), again.get(i).value()),
          cases.get(i).name() + " not deterministic");
    }
  }
}
