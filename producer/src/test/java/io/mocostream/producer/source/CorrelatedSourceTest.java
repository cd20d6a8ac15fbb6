package io.mocostream.producer.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.Reason;
import io.mocostream.producer.validate.Refusal;
import io.mocostream.schemas.ContentType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CorrelatedSourceTest {
  private static final int SIZE = 16;

  /**
   * Items of random grey noise (so that different items are far apart), with an optional refusal at
   * index 2.
   */
  private static FrameSource items(int count, boolean withRefusal) {
    List<SourceEntry> entries = new ArrayList<>();
    Random r = new Random(7);
    for (int i = 0; i < count; i++) {
      if (withRefusal && i == 2) {
        entries.add(new SourceEntry.Refused(new Refusal("bad#2", Reason.UNREADABLE, "broken")));
        continue;
      }
      byte[] px = new byte[SIZE * SIZE];
      r.nextBytes(px);
      entries.add(
          new SourceItem(
              "feed", "f#" + i, ContentType.RAW_GREY, px, SIZE, SIZE, i % 10, 1000, Map.of()));
    }
    return new FrameSource() {
      int next;

      @Override
      public SourceEntry next() {
        return next < entries.size() ? entries.get(next++) : null;
      }

      @Override
      public void rewind() {
        next = 0;
      }

      @Override
      public String describe() {
        return "list";
      }

      @Override
      public void close() {}
    };
  }

  private static List<SourceEntry> drain(FrameSource s) throws Exception {
    List<SourceEntry> out = new ArrayList<>();
    for (SourceEntry e = s.next(); e != null; e = s.next()) {
      out.add(e);
    }
    return out;
  }

  private static double meanAbsDiff(byte[] a, byte[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += Math.abs((a[i] & 0xff) - (b[i] & 0xff));
    }
    return sum / a.length;
  }

  @Test
  void everyItemBecomesABurstOfOneCameraInterleavedRoundRobin() throws Exception {
    var settings = new CorrelatedSource.Settings(5, 3, 100, 42);
    List<SourceEntry> out = drain(new CorrelatedSource(items(6, false), settings));
    assertEquals(30, out.size());
    for (int i = 0;
        i < 15;
        i++) { // while every camera has a burst, frames alternate cam-0, cam-1, cam-2
      assertEquals("feed/cam-" + (i % 3), ((SourceItem) out.get(i)).sourceId());
    }
    // Frames of one burst keep the item's label, count up, and are captured an interval apart.
    List<SourceItem> cam0 =
        out.stream()
            .map(e -> (SourceItem) e)
            .filter(i -> i.sourceId().equals("feed/cam-0"))
            .toList();
    assertEquals(10, cam0.size());
    for (int f = 0; f < 5; f++) {
      assertEquals(Integer.toString(f), cam0.get(f).attributes().get("burst_frame"));
      assertEquals(cam0.get(0).label(), cam0.get(f).label());
      assertEquals(1000 + 100L * f, cam0.get(f).captureTimeMs());
      assertEquals(ContentType.RAW_GREY, cam0.get(f).contentType());
    }
  }

  @Test
  void framesOfABurstAreNearDuplicatesButNotCopies() throws Exception {
    var settings = new CorrelatedSource.Settings(8, 2, 100, 1);
    List<SourceItem> out =
        drain(new CorrelatedSource(items(4, false), settings)).stream()
            .map(e -> (SourceItem) e)
            .toList();
    List<SourceItem> burst =
        out.stream().filter(i -> i.attributes().get("burst_item").equals("0")).toList();
    List<SourceItem> other =
        out.stream().filter(i -> i.attributes().get("burst_item").equals("1")).toList();
    assertEquals(8, burst.size());
    double within = meanAbsDiff(burst.get(0).data(), burst.get(1).data());
    double across = meanAbsDiff(burst.get(0).data(), other.get(0).data());
    assertTrue(within > 0, "consecutive frames drift");
    assertTrue(
        within < across / 2,
        "consecutive frames " + within + " should be far closer than other items " + across);
  }

  @Test
  void sameSeedSameBytesOtherSeedOtherDrift() throws Exception {
    var a =
        drain(new CorrelatedSource(items(5, false), new CorrelatedSource.Settings(4, 2, 100, 9)));
    var b =
        drain(new CorrelatedSource(items(5, false), new CorrelatedSource.Settings(4, 2, 100, 9)));
    var c =
        drain(new CorrelatedSource(items(5, false), new CorrelatedSource.Settings(4, 2, 100, 10)));
    assertEquals(a.size(), b.size());
    boolean differs = false;
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(((SourceItem) a.get(i)).data(), ((SourceItem) b.get(i)).data());
      differs |=
          !java.util.Arrays.equals(((SourceItem) a.get(i)).data(), ((SourceItem) c.get(i)).data());
    }
    assertTrue(differs);
  }

  @Test
  void refusalsPassThroughAndRewindStartsOver() throws Exception {
    CorrelatedSource s =
        new CorrelatedSource(items(4, true), new CorrelatedSource.Settings(3, 2, 100, 0));
    List<SourceEntry> out = drain(s);
    assertEquals(1, out.stream().filter(e -> e instanceof SourceEntry.Refused).count());
    assertEquals(9, out.stream().filter(e -> e instanceof SourceItem).count());
    assertNull(s.next());
    s.rewind();
    assertInstanceOf(SourceItem.class, s.next());
  }

  @Test
  void settingsOutOfRangeNameTheOption() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> new CorrelatedSource.Settings(0, 2, 100, 0));
    assertTrue(e.getMessage().contains("--burst"));
    e =
        assertThrows(
            IllegalArgumentException.class, () -> new CorrelatedSource.Settings(2, 0, 100, 0));
    assertTrue(e.getMessage().contains("--cameras"));
  }
}
