package io.mocostream.vision.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU quota read from cgroup files laid out as the kernel does (v2 and v1, host and container
 * views).
 */
class ComputeThreadsTest {

  @Test
  void cgroupV2QuotaRoundsUp(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("kubepods/pod1"));
    Files.writeString(root.resolve("kubepods/pod1/cpu.max"), "150000 100000\n");
    assertEquals(OptionalInt.of(2), ComputeThreads.cgroupQuota(root, "0::/kubepods/pod1\n"));
  }

  @Test
  void cgroupV2InsideAContainerSeesItsRoot(@TempDir Path root) throws Exception {
    Files.writeString(root.resolve("cpu.max"), "100000 100000\n");
    assertEquals(OptionalInt.of(1), ComputeThreads.cgroupQuota(root, "0::/\n"));
  }

  @Test
  void unlimitedIsEmpty(@TempDir Path root) throws Exception {
    Files.writeString(root.resolve("cpu.max"), "max 100000\n");
    assertEquals(OptionalInt.empty(), ComputeThreads.cgroupQuota(root, "0::/\n"));
    assertEquals(OptionalInt.empty(), ComputeThreads.cgroupQuota(root, ""));
  }

  @Test
  void cgroupV1Quota(@TempDir Path root) throws Exception {
    Path cpu = Files.createDirectories(root.resolve("cpu,cpuacct/docker/abc"));
    Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "350000\n");
    Files.writeString(cpu.resolve("cpu.cfs_period_us"), "100000\n");
    assertEquals(
        OptionalInt.of(4),
        ComputeThreads.cgroupQuota(root, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n"));
    Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "-1\n");
    assertEquals(
        OptionalInt.empty(), ComputeThreads.cgroupQuota(root, "4:cpu,cpuacct:/docker/abc\n"));
  }

  @Test
  void availableNeverExceedsTheCores() {
    int n = ComputeThreads.available();
    assertEquals(true, n >= 1 && n <= Runtime.getRuntime().availableProcessors(), "available=" + n);
  }
}
