package io.mocostream.registry.server;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.registry.server.KafkaSchemaLog.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Confluent-compatible schema registry inside this JVM, for the one-laptop default and for tests:
 * Confluent's REST API on {@code http://127.0.0.1:PORT}, schemas kept in a compacted {@code
 * _schemas} topic on the given Kafka exactly as Confluent keeps them, so a restart (or a new
 * instance on the same broker) serves the same ids and versions. AVRO schemas only.
 *
 * <p>HTTP is the JDK's built-in {@code com.sun.net.httpserver.HttpServer}: a handful of JSON
 * endpoints need no extra dependency (no Jetty/Jersey), and the JDK server handles keep-alive and
 * concurrency well enough for a registry, which serializers call once per schema. The port is
 * untrusted ({@link HttpDefences}): request and response deadlines cut slow clients off, the worker
 * pool has a bounded queue past which requests are answered 503, 401 and 413 close the connection
 * without reading the body, and a failure's 500 carries only a request id.
 *
 * <pre>{@code
 * try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0)) {
 *   producerProps.put("schema.registry.url", registry.url());
 * }
 * }</pre>
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedSchemaRegistry.class);

  /** Confluent's default topic name (its {@code kafkastore.topic}). */
  public static final String DEFAULT_TOPIC = "_schemas";

  /** How long a write may wait for Kafka's ack and the reader by default. */
  public static final Duration DEFAULT_STORE_TIMEOUT = Duration.ofSeconds(30);

  private static final String HOST = "127.0.0.1";

  /** Requests that may wait for a worker by default. */
  public static final int DEFAULT_QUEUE = 64;

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  static {
    // The JDK server writes response headers and body as two TCP segments; with Nagle on, the body
    // waits for
    // the client's delayed ACK of the headers: ~40 ms per request. The switch is JVM-wide and read
    // once, when
    // the JDK's server config class loads, so it is set here, before the first server, unless set
    // already.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer server;
  private final HttpDefences.Workers executor;
  private final KafkaSchemaLog store;
  private final RestHandler handler;
  private final String topic;
  private final int port;
  private final boolean tls;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  private EmbeddedSchemaRegistry(
      HttpServer server,
      HttpDefences.Workers executor,
      KafkaSchemaLog store,
      RestHandler handler,
      String topic) {
    this.server = server;
    this.tls = server instanceof HttpsServer;
    this.executor = executor;
    this.store = store;
    this.handler = handler;
    this.topic = topic;
    this.port = server.getAddress().getPort();
  }

  /**
   * Starts a registry on 127.0.0.1:{@code port} (0 = a free port) keeping schemas in {@code
   * _schemas}.
   */
  public static EmbeddedSchemaRegistry start(String bootstrapServers, int port) {
    return builder(bootstrapServers).port(port).start();
  }

  /** Starts a registry keeping its schemas in {@code topic}. */
  public static EmbeddedSchemaRegistry start(String bootstrapServers, int port, String topic) {
    return builder(bootstrapServers).port(port).topic(topic).start();
  }

  public static Builder builder(String bootstrapServers) {
    return new Builder(bootstrapServers);
  }

  /**
   * Base URL, {@code http://127.0.0.1:PORT} ({@code https} with TLS): the value of {@code
   * schema.registry.url}.
   */
  public String url() {
    return (tls ? "https://" : "http://") + HOST + ":" + port;
  }

  public int port() {
    return port;
  }

  public String topic() {
    return topic;
  }

  /**
   * HTTP requests served so far (every request counts, errors too): lets tests prove a cache hit.
   */
  public long requestCount() {
    return handler.requestCount();
  }

  /**
   * Stops serving and releases the Kafka clients; idempotent. The topic, and so every schema,
   * stays.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.stop(0);
    executor.close();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    store.close();
    log.info("schema registry {} stopped", url());
  }

  @Override
  public String toString() {
    return "EmbeddedSchemaRegistry[" + url() + ", topic " + topic + "]";
  }

  /** Options beyond bootstrap and port. */
  public static final class Builder {
    private final String bootstrapServers;
    private int port;
    private String topic = DEFAULT_TOPIC;
    private String basicAuthUserInfo;
    private Duration storeTimeout = DEFAULT_STORE_TIMEOUT;
    private final Map<String, Object> kafkaConfig = new HashMap<>();
    private int threads = 4;
    private int queue = DEFAULT_QUEUE;
    private SSLContext sslContext;

    private Builder(String bootstrapServers) {
      this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    }

    /** 0 (the default) picks a free port. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is outside 0..65535");
      }
      this.port = port;
      return this;
    }

    public Builder topic(String topic) {
      this.topic = Objects.requireNonNull(topic, "topic");
      return this;
    }

    /** Requires HTTP basic auth with these credentials on every request (401 otherwise). */
    public Builder basicAuth(String user, String password) {
      if (user.indexOf(':') >= 0) {
        throw new IllegalArgumentException("a basic-auth user name cannot contain ':'");
      }
      this.basicAuthUserInfo = user + ":" + password;
      return this;
    }

    /**
     * Extra Kafka client settings for the registry's admin, producer and consumer (security, ...).
     */
    public Builder kafkaConfig(Map<String, ?> config) {
      kafkaConfig.putAll(config);
      return this;
    }

    public Builder storeTimeout(Duration timeout) {
      this.storeTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Serves HTTPS with this context (its key manager holds the server certificate) instead of
     * HTTP.
     */
    public Builder tls(SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** HTTP worker threads (default 4). */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Requests that may wait for a worker (default {@value #DEFAULT_QUEUE}); more are answered 503
     * at once.
     */
    public Builder queue(int queue) {
      if (queue < 0) {
        throw new IllegalArgumentException("queue must be ≥ 0, got " + queue);
      }
      this.queue = queue;
      return this;
    }

    /**
     * Prepares the topic, replays it into memory, then opens the HTTP port: the registry answers
     * only once it knows every schema already stored.
     *
     * @throws IllegalStateException naming the topic and broker when Kafka cannot be used
     * @throws UncheckedIOException naming the port when it cannot be bound
     */
    public EmbeddedSchemaRegistry start() {
      long t0 = System.nanoTime();
      RegistryState state = new RegistryState();
      KafkaSchemaLog store =
          new KafkaSchemaLog(
              bootstrapServers,
              topic,
              kafkaConfig,
              (offset, key, value) -> StoreRecords.apply(state, offset, key, value),
              storeTimeout);
      try {
        store.start();
      } catch (StoreException e) {
        store.close();
        throw new IllegalStateException(
            "cannot start the schema registry on Kafka " + bootstrapServers + ": " + e.getMessage(),
            e);
      } catch (RuntimeException e) {
        store.close();
        throw e;
      }
      RegistryService service = new RegistryService(state, store);
      RestHandler handler = new RestHandler(service, basicAuthUserInfo);
      // Answered by the shedder when every worker and queue slot is taken (see
      // HttpDefences.Workers).
      HttpServer server;
      try {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(HOST), port);
        if (sslContext == null) {
          server = HttpDefences.create(address, 64);
        } else {
          HttpDefences.installDeadlines();
          HttpsServer https = HttpsServer.create(address, 64);
          https.setHttpsConfigurator(new HttpsConfigurator(sslContext));
          server = https;
        }
      } catch (IOException e) {
        store.close();
        String why = e instanceof BindException ? "is it in use?" : e.toString();
        throw new UncheckedIOException(
            "cannot open the schema registry on " + HOST + ":" + port + ": " + why, e);
      }
      int instance = INSTANCES.incrementAndGet();
      HttpDefences.Workers executor =
          new HttpDefences.Workers("schema-registry-" + instance + "-http", threads, queue, null);
      server.setExecutor(executor);
      server.createContext("/", handler);
      server.start();
      EmbeddedSchemaRegistry registry =
          new EmbeddedSchemaRegistry(server, executor, store, handler, topic);
      log.info(
          "schema registry on {} (topic {} on {}: {} records replayed, {} subjects, max id {}) started in {} ms",
          registry.url(),
          topic,
          bootstrapServers,
          store.appliedCount(),
          state.subjectCount(),
          state.maxId(),
          (System.nanoTime() - t0) / 1_000_000);
      return registry;
    }
  }
}
