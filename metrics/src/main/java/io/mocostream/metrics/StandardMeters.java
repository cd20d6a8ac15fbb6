package io.mocostream.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * The meters every command exposes: Micrometer's JVM binders (memory pools, GC, threads, class
 * loading), CPU and uptime, and {@link ProcessMemory} (resident and native memory). Close the
 * handle to stop the GC listener.
 */
public final class StandardMeters implements AutoCloseable {
  private final JvmGcMetrics gc = new JvmGcMetrics();

  private StandardMeters(MeterRegistry registry) {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    ProcessMemory.bindTo(registry);
  }

  public static StandardMeters bindTo(MeterRegistry registry) {
    return new StandardMeters(registry);
  }

  @Override
  public void close() {
    gc.close();
  }
}
