package io.mocostream.vision.model;

import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * PyTorch's intra-op thread count. The default follows the CPU the process may use: the container's
 * CPU quota (cgroup v2 {@code cpu.max}, v1 {@code cpu.cfs_quota_us}/{@code cpu.cfs_period_us})
 * rounded up, or the cores, whichever is smaller. PyTorch's own default is the node's cores, which
 * on a 2-CPU pod of a 64-core node means 64 threads taking turns on 2 CPUs.
 *
 * <p>The count changes the last bits of results (reductions split differently), so it is recorded
 * with every training step and replay sets it back per step ({@link #set}); it is not part of what
 * must match to resume.
 */
public final class ComputeThreads {
  /** DJL's system property, read when the engine starts. */
  public static final String PROPERTY = "ai.djl.pytorch.num_threads";

  private static final Path CGROUP = Path.of("/sys/fs/cgroup");

  private ComputeThreads() {}

  /** {@code -Dai.djl.pytorch.num_threads} when given, else {@link #available()}. */
  public static int configured() {
    String p = System.getProperty(PROPERTY);
    if (p != null && !p.isBlank()) {
      try {
        int n = Integer.parseInt(p.trim());
        if (n > 0) {
          return n;
        }
      } catch (NumberFormatException e) {
        // fall through to the error
      }
      throw new IllegalArgumentException(PROPERTY + "=" + p + " is not a positive thread count");
    }
    return available();
  }

  /**
   * Sets DJL's property to {@link #configured()} (and one inter-op thread) unless given, so the
   * engine starts with the quota's count; call before the engine is first used. Returns the count.
   */
  public static int configure() {
    int n = configured();
    System.setProperty(PROPERTY, String.valueOf(n));
    if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    return n;
  }

  /** The smaller of the cores this JVM sees and the cgroup CPU quota (rounded up), at least 1. */
  public static int available() {
    int cores = Runtime.getRuntime().availableProcessors();
    OptionalInt quota = cgroupQuota(CGROUP, readOwnCgroup());
    return Math.max(1, quota.isPresent() ? Math.min(cores, quota.getAsInt()) : cores);
  }

  /** The intra-op threads of the calling thread's PyTorch (the engine must be loaded). */
  public static int current() {
    return JniUtils.getNumThreads();
  }

  /**
   * Sets PyTorch's intra-op thread count. With OpenMP the count is per calling thread: call it on
   * the thread that runs the computation.
   */
  public static void set(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
    }
    if (JniUtils.getNumThreads() != threads) {
      JniUtils.setNumThreads(threads);
    }
  }

  private static String readOwnCgroup() {
    try {
      return Files.readString(Path.of("/proc/self/cgroup"), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /**
   * The CPU quota in whole CPUs (rounded up) from the cgroup file system at {@code root}, looking
   * at this process's own cgroup (from {@code procSelfCgroup}) and the mount's root (what a
   * container sees); empty when unlimited or unknown. Package-visible for tests with a fake file
   * system.
   */
  static OptionalInt cgroupQuota(Path root, String procSelfCgroup) {
    int best = Integer.MAX_VALUE;
    for (String line : procSelfCgroup.split("\n")) {
      String[] f = line.split(":", 3);
      if (f.length < 3) {
        continue;
      }
      String rel = f[2].startsWith("/") ? f[2].substring(1) : f[2];
      if (f[1].isEmpty()) { // v2: 0::/path
        for (Path dir : List.of(root.resolve(rel), root)) {
          best = Math.min(best, v2(dir.resolve("cpu.max")));
        }
      } else if (List.of(f[1].split(",")).contains("cpu")) { // v1: N:cpu,cpuacct:/path
        for (Path base :
            List.of(root.resolve(f[1]), root.resolve("cpu"), root.resolve("cpu,cpuacct"))) {
          for (Path dir : List.of(base.resolve(rel), base)) {
            best = Math.min(best, v1(dir));
          }
        }
      }
    }
    return best == Integer.MAX_VALUE ? OptionalInt.empty() : OptionalInt.of(best);
  }

  /** {@code cpu.max}: "max 100000" (no limit) or "QUOTA PERIOD". */
  private static int v2(Path cpuMax) {
    try {
      String[] f = Files.readString(cpuMax, StandardCharsets.UTF_8).trim().split("\\s+");
      if (f.length == 2 && !f[0].equals("max")) {
        return ceilDiv(Long.parseLong(f[0]), Long.parseLong(f[1]));
      }
    } catch (IOException | RuntimeException e) {
      // not there or not readable: no limit known from this file
    }
    return Integer.MAX_VALUE;
  }

  private static int v1(Path dir) {
    try {
      long quota =
          Long.parseLong(
              Files.readString(dir.resolve("cpu.cfs_quota_us"), StandardCharsets.UTF_8).trim());
      long period =
          Long.parseLong(
              Files.readString(dir.resolve("cpu.cfs_period_us"), StandardCharsets.UTF_8).trim());
      if (quota > 0 && period > 0) {
        return ceilDiv(quota, period);
      }
    } catch (IOException | RuntimeException e) {
      // not there or not readable
    }
    return Integer.MAX_VALUE;
  }

  private static int ceilDiv(long quota, long period) {
    if (quota <= 0 || period <= 0) {
      return Integer.MAX_VALUE;
    }
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE - 1, (quota + period - 1) / period));
  }
}
