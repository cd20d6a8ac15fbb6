package io.mocostream.producer.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.frames.FrameLimits;
import io.mocostream.frames.Reason;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.producer.validate.FrameValidator;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirSourceTest {
  @TempDir Path dir;
  private final FrameValidator validator = new FrameValidator(FrameLimits.DEFAULT);
  private final ExecutorService pool = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  private static List<SourceEntry> drain(FrameSource s) throws Exception {
    List<SourceEntry> all = new ArrayList<>();
    for (SourceEntry e; (e = s.next()) != null; ) {
      all.add(e);
    }
    return all;
  }

  @Test
  void onePassInSortedOrderSkippingHiddenAndInProgressFiles() throws Exception {
    Files.write(dir.resolve("b.png"), TestImages.png(4, 4));
    Files.write(dir.resolve("a.jpg"), TestImages.jpeg(4, 4));
    Files.createDirectories(dir.resolve("sub"));
    Files.write(dir.resolve("sub/c.gif"), TestImages.gif(4, 4));
    Files.write(dir.resolve(".hidden.png"), TestImages.png(4, 4));
    Files.write(dir.resolve("d.png.part"), TestImages.png(4, 4));
    Files.createDirectories(dir.resolve(".cache"));
    Files.write(dir.resolve(".cache/e.png"), TestImages.png(4, 4));
    try (DirSource s = new DirSource(dir, "cam", validator, false)) {
      List<String> files = new ArrayList<>();
      for (SourceEntry e : drain(s)) {
        SourceItem item = assertInstanceOf(SourceItem.class, e);
        assertEquals("cam", item.sourceId());
        assertArrayEquals(Files.readAllBytes(Path.of(item.origin())), item.data());
        assertEquals(
            Files.getLastModifiedTime(Path.of(item.origin())).toMillis(), item.captureTimeMs());
        files.add(item.attributes().get("file"));
      }
      assertEquals(List.of("a.jpg", "b.png", "sub/c.gif"), files);
      s.rewind();
      assertEquals(3, drain(s).size());
    }
  }

  @Test
  void emptyAndOversizedFilesAreRefusedWithoutReadingThem() throws Exception {
    Files.write(dir.resolve("empty.jpg"), new byte[0]);
    // A sparse 3 GiB file: reading it into a byte[] would fail outright, so refusing it proves it
    // was not read.
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("huge.png").toFile(), "rw")) {
      f.setLength(3L << 30);
    }
    try (DirSource s = new DirSource(dir, "cam", validator, false)) {
      List<SourceEntry> all = drain(s);
      assertEquals(2, all.size());
      assertEquals(
          Reason.EMPTY, assertInstanceOf(SourceEntry.Refused.class, all.get(0)).refusal().reason());
      SourceEntry.Refused huge = assertInstanceOf(SourceEntry.Refused.class, all.get(1));
      assertEquals(Reason.TOO_MANY_BYTES, huge.refusal().reason());
      assertTrue(huge.refusal().origin().endsWith("huge.png"));
      assertTrue(huge.refusal().message().contains("3221225472 bytes"), huge.refusal().message());
    }
  }

  @Test
  void watchPublishesExistingThenNewFilesOnceComplete() throws Exception {
    byte[] first = TestImages.png(8, 8);
    Files.write(dir.resolve("first.png"), first);
    try (DirSource s = new DirSource(dir, "cam", validator, true, 300)) {
      SourceItem existing = assertInstanceOf(SourceItem.class, s.next());
      assertArrayEquals(first, existing.data());

      // Rename into place: the temporary name is ignored, the final name appears complete.
      byte[] renamed = TestImages.jpeg(32, 32);
      Path tmp = dir.resolve(".renamed.jpg.tmp");
      Files.write(tmp, renamed);
      Files.move(tmp, dir.resolve("renamed.jpg"), StandardCopyOption.ATOMIC_MOVE);
      SourceItem r = assertInstanceOf(SourceItem.class, s.next());
      assertTrue(r.origin().endsWith("renamed.jpg"), r.origin());
      assertArrayEquals(renamed, r.data());

      // Written in pieces: only the complete file goes out.
      byte[] slow = TestImages.png(200, 200);
      Future<SourceEntry> next = pool.submit(s::next);
      try (OutputStream out = Files.newOutputStream(dir.resolve("slow.png"))) {
        for (int off = 0; off < slow.length; off += 1024) {
          out.write(slow, off, Math.min(1024, slow.length - off));
          out.flush();
          Thread.sleep(5);
        }
      }
      SourceItem complete = assertInstanceOf(SourceItem.class, next.get(30, TimeUnit.SECONDS));
      assertArrayEquals(slow, complete.data(), "published before the writer finished");

      // Nothing unchanged is published twice; cancel ends the wait.
      Future<SourceEntry> none = pool.submit(s::next);
      Thread.sleep(1000);
      assertTrue(!none.isDone(), "an unchanged file was published again");
      s.cancel();
      assertNull(none.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void watchSeesNewSubfolders() throws Exception {
    try (DirSource s = new DirSource(dir, "cam", validator, true, 200)) {
      CompletableFuture<SourceEntry> next =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return s.next();
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              },
              pool);
      Path sub = Files.createDirectories(dir.resolve("day1"));
      Thread.sleep(
          300); // let the watcher register the new folder before the file lands (either way it is
      // found)
      Files.write(sub.resolve("x.png"), TestImages.png(4, 4));
      SourceItem item = assertInstanceOf(SourceItem.class, next.get(30, TimeUnit.SECONDS));
      assertEquals("day1/x.png", item.attributes().get("file"));
    }
  }

  @Test
  void unreadableFileIsRefused() throws Exception {
    Path f = Files.write(dir.resolve("locked.png"), TestImages.png(4, 4));
    try (DirSource s = new DirSource(dir, "cam", validator, false)) {
      Files.delete(f); // listed, then gone before it is read
      SourceEntry.Refused r = assertInstanceOf(SourceEntry.Refused.class, s.next());
      assertEquals(Reason.UNREADABLE, r.refusal().reason());
      assertTrue(r.refusal().message().contains("locked.png"), r.refusal().message());
    }
  }
}
