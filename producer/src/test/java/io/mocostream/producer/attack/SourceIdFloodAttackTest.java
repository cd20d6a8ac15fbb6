package io.mocostream.producer.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.producer.publish.FramePublisher;
import io.mocostream.producer.publish.PublishedFrame;
import io.mocostream.producer.source.SourceItem;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.producer.validate.Verdict;
import io.mocostream.schemas.ContentType;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: the upload endpoint's clients choose {@code X-Source-Id}, and the publisher kept a
 * sequence counter for every id ever seen, so inventing ids grew the heap without bound. Attack:
 * publish frames under more distinct source ids than the table holds, through the real publisher to
 * the real broker. Defence: the table is an LRU of {@value FramePublisher#MAX_TRACKED_SOURCES} ids,
 * and an evicted id's numbers still only increase.
 */
@ExtendWith(KafkaClusterExtension.class)
class SourceIdFloodAttackTest {
  @Test
  void theSequenceTableStaysBoundedAndNumbersNeverRepeat(KafkaCluster cluster) throws Exception {
    String topic = "source-flood-" + UUID.randomUUID().toString().substring(0, 8);
    byte[] png = TestImages.png(8, 8);
    Verdict.Accepted accepted = new Verdict.Accepted(ContentType.PNG, 8, 8);
    try (FramePublisher publisher =
        new FramePublisher(
            cluster.bootstrapServers(), cluster.registryUrl(), topic, 1 << 20, Map.of())) {
      PublishedFrame first = publish(publisher, "victim", png, accepted).get(60, TimeUnit.SECONDS);
      PublishedFrame second = publish(publisher, "victim", png, accepted).get(60, TimeUnit.SECONDS);
      assertEquals(0, first.sequence());
      assertEquals(1, second.sequence());
      CompletableFuture<PublishedFrame> last = null;
      for (int i = 0; i < FramePublisher.MAX_TRACKED_SOURCES + 500; i++) {
        last = publish(publisher, "invented-" + i, png, accepted);
        assertTrue(
            publisher.trackedSources() <= FramePublisher.MAX_TRACKED_SOURCES,
            "table size " + publisher.trackedSources());
      }
      last.get(120, TimeUnit.SECONDS);
      assertEquals(FramePublisher.MAX_TRACKED_SOURCES, publisher.trackedSources());
      // "victim" was evicted long ago: its next number is above every number handed out, never 0 or
      // 1 again.
      PublishedFrame again = publish(publisher, "victim", png, accepted).get(60, TimeUnit.SECONDS);
      assertTrue(again.sequence() >= 2, "victim's numbers never repeat: got " + again.sequence());
    }
  }

  private static CompletableFuture<PublishedFrame> publish(
      FramePublisher p, String sourceId, byte[] png, Verdict.Accepted accepted) {
    CompletableFuture<PublishedFrame> f = new CompletableFuture<>();
    SourceItem item =
        new SourceItem(
            sourceId,
            "attack",
            ContentType.PNG,
            png,
            null,
            null,
            null,
            System.currentTimeMillis(),
            Map.of());
    p.publish(
        item,
        accepted,
        (published, error) -> {
          if (error != null) {
            f.completeExceptionally(error);
          } else {
            f.complete(published);
          }
        });
    return f;
  }
}
