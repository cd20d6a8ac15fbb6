package io.mocostream.registry.http;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Defences shared by the project's three HTTP servers (the embedded schema registry, the producer's
 * upload endpoint and the embedding service), all on the JDK's {@code com.sun.net.httpserver}.
 *
 * <p><b>Deadlines.</b> The JDK server reads a request's line, headers and body on the worker thread
 * that then runs the handler, so a client sending one header line every few seconds (slowloris)
 * holds a worker for as long as it likes, and a pool's worth of such clients stops the server. The
 * JDK server has request and response deadlines, off by default, configured by the system
 * properties its module documents: {@value #REQUEST_DEADLINE_PROPERTY} (seconds from the
 * connection's first byte, or a kept-alive connection's next request, until the request with its
 * body is read) and {@value #RESPONSE_DEADLINE_PROPERTY} (seconds from then until the answer is
 * written, handler time included). A connection over either is closed by the server's timer, which
 * frees its worker. They are JVM-wide and read once, when the first server is created: {@link
 * #create} sets them first, to {@value #DEFAULT_REQUEST_DEADLINE_SECONDS} s and {@value
 * #DEFAULT_RESPONSE_DEADLINE_SECONDS} s, unless the user has set them already ({@code
 * JAVA_OPTS=-Dsun.net.httpserver.maxReqTime=30}).
 *
 * <p><b>Admission.</b> {@link Workers}: a fixed pool with a bounded queue; a request that finds
 * both full runs on a one-thread shedder on which {@link Workers#shedding()} is true, and the
 * handler answers 503 with {@code Retry-After} at once instead of queueing without bound. Beyond
 * the shedder's own short queue the JDK server closes the connection.
 */
public final class HttpDefences {
  public static final String REQUEST_DEADLINE_PROPERTY = "sun.net.httpserver.maxReqTime";
  public static final String RESPONSE_DEADLINE_PROPERTY = "sun.net.httpserver.maxRspTime";

  /** Enough for a 16 MiB upload at 10 Mbit/s; a slow client holds a worker at most this long. */
  public static final long DEFAULT_REQUEST_DEADLINE_SECONDS = 15;

  /**
   * Longer than the slowest handler (the upload endpoint waits up to 60 s for Kafka's
   * acknowledgement).
   */
  public static final long DEFAULT_RESPONSE_DEADLINE_SECONDS = 90;

  /** Seconds a 503 asks the client to wait. */
  public static final int RETRY_AFTER_SECONDS = 1;

  /** Requests the shedder may hold while answering 503 (microseconds each). */
  static final int SHEDDER_QUEUE = 64;

  private static final ThreadLocal<Boolean> SHEDDING = ThreadLocal.withInitial(() -> false);

  private HttpDefences() {}

  /**
   * Sets the JDK server's deadlines unless set already; must run before the JVM's first HTTP
   * server. Idempotent.
   */
  public static synchronized void installDeadlines() {
    if (System.getProperty(REQUEST_DEADLINE_PROPERTY) == null) {
      System.setProperty(
          REQUEST_DEADLINE_PROPERTY, Long.toString(DEFAULT_REQUEST_DEADLINE_SECONDS));
    }
    if (System.getProperty(RESPONSE_DEADLINE_PROPERTY) == null) {
      System.setProperty(
          RESPONSE_DEADLINE_PROPERTY, Long.toString(DEFAULT_RESPONSE_DEADLINE_SECONDS));
    }
  }

  /**
   * The request deadline in force (after {@link #installDeadlines()}); null when switched off
   * ({@code -1}).
   */
  public static Duration requestDeadline() {
    return seconds(REQUEST_DEADLINE_PROPERTY, DEFAULT_REQUEST_DEADLINE_SECONDS);
  }

  /** The response deadline in force; null when switched off ({@code -1}). */
  public static Duration responseDeadline() {
    return seconds(RESPONSE_DEADLINE_PROPERTY, DEFAULT_RESPONSE_DEADLINE_SECONDS);
  }

  private static Duration seconds(String property, long fallback) {
    long s = Long.getLong(property, fallback);
    return s < 0 ? null : Duration.ofSeconds(s);
  }

  /** {@link HttpServer#create(InetSocketAddress, int)} with the deadlines installed first. */
  public static HttpServer create(InetSocketAddress address, int backlog) throws IOException {
    installDeadlines();
    return HttpServer.create(address, backlog);
  }

  /**
   * An id for one failed request: the log line with the details and the generic error body both
   * carry it, so an operator can find one from the other while the client learns nothing about the
   * server's internals.
   */
  public static String newRequestId() {
    return String.format("%016x", ThreadLocalRandom.current().nextLong());
  }

  /**
   * The server's executor: {@code threads} workers, {@code queue} waiting, the rest shed (see the
   * class doc).
   */
  public static final class Workers implements Executor, AutoCloseable {
    private final ThreadPoolExecutor workers;
    private final ThreadPoolExecutor shedder;
    private final Runnable onShed;
    private final int threads;
    private final int queue;

    /**
     * {@code onShed} runs (on the accepting thread) for each request sent to the shedder: count it
     * there.
     */
    public Workers(String name, int threads, int queue, Runnable onShed) {
      if (threads < 1 || queue < 0) {
        throw new IllegalArgumentException(
            name + ": threads must be ≥ 1 and queue ≥ 0, got " + threads + " and " + queue);
      }
      this.threads = threads;
      this.queue = queue;
      this.onShed = onShed == null ? () -> {} : onShed;
      this.workers =
          new ThreadPoolExecutor(
              threads,
              threads,
              0,
              TimeUnit.SECONDS,
              queue == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queue),
              factory(name + "-", false));
      this.shedder =
          new ThreadPoolExecutor(
              1,
              1,
              0,
              TimeUnit.SECONDS,
              new ArrayBlockingQueue<>(SHEDDER_QUEUE),
              factory(name + "-shed-", true));
    }

    @Override
    public void execute(Runnable task) {
      try {
        workers.execute(task);
      } catch (RejectedExecutionException full) {
        onShed.run();
        shedder.execute(task); // when this rejects too, the JDK server closes the connection
      }
    }

    /** True on the shedder's thread: the handler answers 503 without doing the work. */
    public static boolean shedding() {
      return SHEDDING.get();
    }

    public int threads() {
      return threads;
    }

    public int queue() {
      return queue;
    }

    /** A message for the 503. */
    public String overloadedMessage() {
      return "all "
          + threads
          + " workers and "
          + queue
          + " queue slots are busy; retry in "
          + RETRY_AFTER_SECONDS
          + " s";
    }

    @Override
    public void close() {
      workers.shutdownNow();
      shedder.shutdownNow();
    }

    public void awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      workers.awaitTermination(timeout, unit);
      shedder.awaitTermination(timeout, unit);
    }

    private static java.util.concurrent.ThreadFactory factory(String prefix, boolean shedding) {
      AtomicInteger n = new AtomicInteger();
      return r -> {
        Runnable body =
            shedding
                ? () -> {
                  SHEDDING.set(true);
                  r.run();
                }
                : r;
        Thread t = new Thread(body, prefix + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
    }
  }
}
