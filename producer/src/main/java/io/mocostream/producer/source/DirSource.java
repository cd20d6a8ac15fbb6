package io.mocostream.producer.source;

import io.mocostream.frames.Reason;
import io.mocostream.producer.validate.FrameValidator;
import io.mocostream.producer.validate.Refusal;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Image files from a folder and its sub-folders.
 *
 * <p><b>One pass</b> (default): every regular file, in sorted relative-path order so that two runs
 * publish the same sequence. <b>Watch</b>: the files already there, then every file dropped in
 * later, until closed.
 *
 * <p>Skipped in both modes: hidden names (starting with {@code .}) and in-progress names ending in
 * {@link #IN_PROGRESS_SUFFIXES}: an uploader that writes {@code .x.jpg.tmp} and renames it into
 * place is never seen half-written.
 *
 * <p><b>When a watched file counts as complete</b>: the WatchService only says that a file appeared
 * or changed, not that its writer is done. A file is published once its size and modification time
 * have stayed the same for the settle period (default {@value #DEFAULT_SETTLE_MS} ms), checked at
 * least twice. A renamed-into-place file is stable at once and goes out one settle period later;
 * one still being copied keeps changing and waits. A file rewritten after publishing (new size or
 * time) is published again as a new frame; an unchanged one never twice.
 *
 * <p>Files are checked against the byte limit by their size before being read; a file that is
 * empty, too big or unreadable is a {@link SourceEntry.Refused}, never dropped silently.
 */
public final class DirSource implements FrameSource {
  private static final Logger log = LoggerFactory.getLogger(DirSource.class);

  public static final long DEFAULT_SETTLE_MS = 500;

  /** Names of files still being written by common tools (curl, rsync, browsers, WinSCP). */
  public static final List<String> IN_PROGRESS_SUFFIXES =
      List.of(".tmp", ".part", ".partial", ".crdownload", ".filepart", ".download");

  private final Path root;
  private final String sourceId;
  private final FrameValidator validator;
  private final boolean watch;
  private final long settleNanos;

  // One pass: the sorted listing taken at start (or rewind).
  private Iterator<Path> listing;
  // Watch: files seen but not yet stable, by path in sorted order; files ready to go; what was
  // already emitted.
  private WatchService watcher;
  private final Map<WatchKey, Path> watchedDirs = new HashMap<>();
  private final TreeMap<Path, Observation> pending = new TreeMap<>();
  private final ArrayDeque<Path> ready = new ArrayDeque<>();
  private final Set<Observation> emitted = new HashSet<>();
  private volatile boolean closed;

  /**
   * Size and time of a file when last looked at; {@code since} is when they were first seen at
   * these values.
   */
  private record Observation(Path path, long size, long mtime, long since) {
    boolean sameFile(Observation o) {
      return o != null && path.equals(o.path) && size == o.size && mtime == o.mtime;
    }

    Observation key() {
      return new Observation(path, size, mtime, 0);
    }
  }

  public DirSource(Path root, String sourceId, FrameValidator validator, boolean watch)
      throws IOException {
    this(root, sourceId, validator, watch, DEFAULT_SETTLE_MS);
  }

  public DirSource(
      Path root, String sourceId, FrameValidator validator, boolean watch, long settleMs)
      throws IOException {
    if (!Files.isDirectory(root)) {
      throw new NoSuchFileException(root.toString(), null, "not a directory");
    }
    this.root = root.toAbsolutePath().normalize();
    this.sourceId = sourceId;
    this.validator = validator;
    this.watch = watch;
    this.settleNanos = TimeUnit.MILLISECONDS.toNanos(settleMs);
    if (watch) {
      // Register before listing, so a file dropped in between is seen by one or the other
      // (duplicates merge).
      watcher = FileSystems.getDefault().newWatchService();
      registerTree(this.root);
    } else {
      listing = list(this.root).iterator();
    }
  }

  @Override
  public SourceEntry next() throws IOException, InterruptedException {
    if (closed) {
      return null;
    }
    if (!watch) {
      return listing.hasNext() ? read(listing.next()) : null;
    }
    try {
      while (ready.isEmpty()) {
        WatchKey key =
            watcher.poll(
                Math.max(1, TimeUnit.NANOSECONDS.toMillis(settleNanos) / 2), TimeUnit.MILLISECONDS);
        for (; key != null; key = watcher.poll()) {
          handle(key);
        }
        promoteStable();
      }
    } catch (ClosedWatchServiceException e) {
      return null;
    }
    return read(ready.poll());
  }

  @Override
  public void rewind() throws IOException {
    if (watch) {
      throw new UnsupportedOperationException("a watched folder has no end to loop from: " + root);
    }
    listing = list(root).iterator();
  }

  @Override
  public String describe() {
    return (watch ? "watched folder " : "folder ") + root;
  }

  @Override
  public void cancel() {
    try {
      close();
    } catch (IOException e) {
      log.debug("closing the watch service of {}: {}", root, e.toString());
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    if (watcher != null) {
      watcher.close();
    }
  }

  /** Regular, non-hidden, complete-named files under {@code dir}, sorted by path. */
  private List<Path> list(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(p -> !p.equals(dir))
          .filter(p -> !hiddenBelow(dir, p))
          .filter(p -> Files.isRegularFile(p))
          .filter(p -> eligibleName(p))
          .sorted()
          .toList();
    }
  }

  private static boolean hiddenBelow(Path dir, Path p) {
    for (Path part : dir.relativize(p)) {
      if (part.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  static boolean eligibleName(Path p) {
    String name = p.getFileName().toString();
    if (name.startsWith(".")) {
      return false;
    }
    String lower = name.toLowerCase(Locale.ROOT);
    return IN_PROGRESS_SUFFIXES.stream().noneMatch(lower::endsWith);
  }

  private SourceEntry read(Path file) {
    String origin = file.toString();
    try {
      BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
      Optional<Refusal> size = validator.checkSize(origin, attrs.size());
      if (size.isPresent()) {
        return new SourceEntry.Refused(size.get());
      }
      byte[] data = Files.readAllBytes(file);
      // The file may have grown between the size check and the read.
      size = validator.checkSize(origin, data.length);
      if (size.isPresent()) {
        return new SourceEntry.Refused(size.get());
      }
      return new SourceItem(
          sourceId,
          origin,
          null,
          data,
          null,
          null,
          null,
          attrs.lastModifiedTime().toMillis(),
          Map.of("file", root.relativize(file).toString()));
    } catch (IOException | SecurityException e) {
      return new SourceEntry.Refused(new Refusal(origin, Reason.UNREADABLE, e.toString()));
    }
  }

  // ---- watch mode ----

  private void registerTree(Path dir) throws IOException {
    for (Path d : directories(dir)) {
      WatchKey key =
          d.register(
              watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
      watchedDirs.put(key, d);
    }
    for (Path f : list(dir)) {
      observe(f);
    }
  }

  private List<Path> directories(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      return all.filter(p -> p.equals(dir) || !hiddenBelow(dir, p))
          .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .toList();
    }
  }

  private void handle(WatchKey key) throws IOException {
    Path dir = watchedDirs.get(key);
    for (WatchEvent<?> event : key.pollEvents()) {
      if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
        // Events were lost: look at everything again; what was emitted unchanged is skipped.
        log.warn("watch events overflowed for {}; rescanning", root);
        for (Path f : list(root)) {
          observe(f);
        }
        continue;
      }
      if (dir == null) {
        continue;
      }
      Path p = dir.resolve((Path) event.context());
      if (hiddenBelow(root, p)) {
        continue;
      }
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        if (event.kind() == StandardWatchEventKinds.ENTRY_CREATE) {
          registerTree(p);
        }
      } else if (eligibleName(p)) {
        observe(p);
      }
    }
    if (!key.reset()) {
      watchedDirs.remove(key);
    }
  }

  private void observe(Path file) {
    Observation now = stat(file);
    if (now == null || emitted.contains(now.key()) || ready.contains(file)) {
      return;
    }
    Observation before = pending.get(file);
    if (!now.sameFile(before)) {
      pending.put(file, now);
    }
  }

  /** Moves files unchanged for the settle period to {@link #ready}, in path order. */
  private void promoteStable() {
    long t = System.nanoTime();
    for (Iterator<Map.Entry<Path, Observation>> it = pending.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<Path, Observation> e = it.next();
      Observation now = stat(e.getKey());
      if (now == null) {
        it.remove(); // deleted or renamed away before it settled
      } else if (!now.sameFile(e.getValue())) {
        e.setValue(now);
      } else if (t - e.getValue().since() >= settleNanos) {
        it.remove();
        if (emitted.add(now.key())) {
          ready.add(e.getKey());
        }
      }
    }
  }

  private static Observation stat(Path file) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!a.isRegularFile()) {
        return null;
      }
      return new Observation(file, a.size(), a.lastModifiedTime().toMillis(), System.nanoTime());
    } catch (IOException e) {
      return null;
    }
  }
}
