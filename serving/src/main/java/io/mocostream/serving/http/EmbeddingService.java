package io.mocostream.serving.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mocostream.encoder.live.CurrentVersion;
import io.mocostream.encoder.live.Embedding;
import io.mocostream.encoder.live.LiveEncoder;
import io.mocostream.encoder.live.NotReadyException;
import io.mocostream.frames.DecodedImage;
import io.mocostream.frames.FrameRejectedException;
import io.mocostream.frames.ImageDecoder;
import io.mocostream.frames.ImageFormats;
import io.mocostream.frames.Reason;
import io.mocostream.registry.http.BearerToken;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.Lineage;
import io.mocostream.schemas.Metrics;
import io.mocostream.schemas.OffsetRange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP embedding service over a {@link LiveEncoder}.
 *
 * <ul>
 *   <li>{@code POST /v1/embed}, body = one JPEG, PNG, GIF or BMP image ({@code Content-Type:
 *       image/...}, {@code application/octet-stream} or none: the format is recognised from the
 *       bytes) → 200 {@code {"model","version","vector"}}, the vector L2-normalised backbone
 *       features of the version named. 400 empty or undecodable image or bad Content-Length; 413
 *       over the byte limit (judged from Content-Length before reading; the read is capped for
 *       chunked bodies) or the pixel limit (judged from the image header before decoding); 415 a
 *       Content-Type that is not an image type, disagrees with the bytes, or bytes of no supported
 *       format; 503 while no verified version serves. Errors are {@code {"error": code,
 *       "message"}}, the code being the lower-case {@link Reason} for image problems.
 *   <li>{@code GET /v1/models} → the model, the version serving with its metrics and lineage, and
 *       the version counters (accepted, swaps, refused by reason).
 *   <li>{@code GET /health/live} → 200 while the process serves HTTP; {@code GET /health/ready} →
 *       200 only once a verified encoder is loaded, else 503 (a load balancer sends nothing before
 *       that).
 *   <li>{@code GET /metrics} → Prometheus text format (see {@link ServiceMetrics} for the series).
 * </ul>
 *
 * With a token in the options, every {@code /v1/} request needs {@code Authorization: Bearer
 * <token>}, else 401 with {@code WWW-Authenticate: Bearer}; the comparison takes the same time
 * whatever the guess (both sides are hashed to SHA-256 first, so not even the token's length
 * leaks). Probes and metrics stay open.
 *
 * <p>Server: the JDK's {@code com.sun.net.httpserver} (module jdk.httpserver, a supported exported
 * API), as the producer's upload endpoint: five routes need no web framework and no extra
 * dependency. Requests run on a bounded pool ({@link ServeOptions#threads()} workers, {@link
 * ServeOptions#queueCapacity()} waiting); when both are full the request goes to a one-thread
 * shedder that answers 503 {@code overloaded} with {@code Retry-After} instead of letting the JDK
 * server drop the connection.
 *
 * <p>Defences of the open port ({@link HttpDefences}): request and response deadlines, so slow
 * clients are cut off and cannot hold the workers (slowloris); 401 and an over-long Content-Length
 * are answered with {@code Connection: close} and the body left unread; decodes run behind a {@link
 * DecodeGate} sized from the heap, and an {@link OutOfMemoryError} on the request path is answered
 * 503; a failure is answered with a generic 500 body carrying a request id, the details going to
 * the log under that id.
 */
public final class EmbeddingService implements AutoCloseable {
  public static final String EMBED_PATH = "/v1/embed";
  public static final String MODELS_PATH = "/v1/models";
  public static final String LIVE_PATH = "/health/live";
  public static final String READY_PATH = "/health/ready";
  public static final String METRICS_PATH = "/metrics";

  /** Seconds a 503 asks the client to wait before retrying. */
  static final int RETRY_AFTER_SECONDS = HttpDefences.RETRY_AFTER_SECONDS;

  /** How long a request waits for a decode permit before it is answered 503. */
  static final long DECODE_WAIT_MILLIS = 5_000;

  static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger log = LoggerFactory.getLogger(EmbeddingService.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, ContentType> IMAGE_TYPES =
      Map.of(
          "image/jpeg",
          ContentType.JPEG,
          "image/jpg",
          ContentType.JPEG,
          "image/pjpeg",
          ContentType.JPEG,
          "image/png",
          ContentType.PNG,
          "image/gif",
          ContentType.GIF,
          "image/bmp",
          ContentType.BMP,
          "image/x-ms-bmp",
          ContentType.BMP,
          "image/x-bmp",
          ContentType.BMP);
  private final ServeOptions options;
  private final LiveEncoder encoder;
  private final ImageDecoder decoder;
  private final HttpServer server;
  private final HttpDefences.Workers workers;
  private final DecodeGate decodes;
  private final ServiceMetrics metrics;
  private final BearerToken token;
  private final AtomicLong requests = new AtomicLong();

  private EmbeddingService(
      ServeOptions options, LiveEncoder encoder, PrometheusMeterRegistry registry)
      throws IOException {
    this.options = options;
    this.encoder = encoder;
    this.decoder = new ImageDecoder(options.limits());
    this.token = BearerToken.of(options.token());
    this.decodes =
        new DecodeGate(
            DecodeGate.permitsFor(
                Runtime.getRuntime().maxMemory(), options.maxPixels(), options.threads()));
    this.metrics = new ServiceMetrics(registry, encoder, decodes);
    this.workers =
        new HttpDefences.Workers(
            "embed-http", options.threads(), options.queueCapacity(), metrics::shed);
    this.server = HttpDefences.create(new InetSocketAddress(options.host(), options.port()), 256);
    server.createContext("/", this::handle);
    server.setExecutor(workers);
  }

  /**
   * {@link #start(ServeOptions, LiveEncoder, PrometheusMeterRegistry)} with a new Prometheus
   * registry.
   */
  public static EmbeddingService start(ServeOptions options, LiveEncoder encoder)
      throws IOException {
    return start(options, encoder, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /**
   * Binds {@link ServeOptions#host()}:{@link ServeOptions#port()} (0: a free port, see {@link
   * #port()}) and serves {@code encoder}, which the caller has started and closes after this
   * service. The service is live at once and ready when the encoder serves a version.
   */
  public static EmbeddingService start(
      ServeOptions options, LiveEncoder encoder, PrometheusMeterRegistry registry)
      throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(registry, "registry");
    if (!encoder.model().equals(options.model())) {
      throw new IllegalArgumentException(
          "the live encoder follows model "
              + encoder.model()
              + ", the options name "
              + options.model());
    }
    EmbeddingService service = new EmbeddingService(options, encoder, registry);
    service.server.start();
    log.info(
        "embedding service for model {} listening on {} (auth: {}; {} concurrent decodes; deadlines: request {},"
            + " response {})",
        options.model(),
        service.uri(),
        options.token() == null ? "none" : "bearer token",
        service.decodes.permits(),
        HttpDefences.requestDeadline(),
        HttpDefences.responseDeadline());
    return service;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://host:port} as bound (loopback when bound to the wildcard address). */
  public URI uri() {
    InetSocketAddress a = server.getAddress();
    String host =
        a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + a.getPort());
  }

  public PrometheusMeterRegistry meterRegistry() {
    return metrics.registry();
  }

  public LiveEncoder encoder() {
    return encoder;
  }

  /** Images that may be decoded and embedded at once (see {@link DecodeGate}). */
  public int decodePermits() {
    return decodes.permits();
  }

  /** The most decodes that were ever in flight at once. */
  public int decodePeak() {
    return decodes.peak();
  }

  // ---- routing
  // -------------------------------------------------------------------------------------------

  private void handle(HttpExchange ex) {
    long t0 = System.nanoTime();
    String path = ex.getRequestURI().getPath();
    String endpoint =
        switch (path) {
          case EMBED_PATH, MODELS_PATH, LIVE_PATH, READY_PATH, METRICS_PATH -> path;
          default -> "other";
        };
    int status;
    try (ex) {
      status = route(ex, path);
    } catch (IOException e) {
      log.debug("client of {} {} went away: {}", ex.getRequestMethod(), path, e.toString());
      status = 499; // nginx's "client closed request": counted, but no answer reached anyone
    } catch (OutOfMemoryError e) {
      // The heap is what it is: refuse this request, keep serving the others (the gate makes this
      // rare).
      String id = HttpDefences.newRequestId();
      log.error("request {}: out of memory on {} {}", id, ex.getRequestMethod(), path, e);
      status = overloadedQuietly(ex, id);
    } catch (RuntimeException | StackOverflowError e) {
      String id = HttpDefences.newRequestId();
      log.error(
          "request {}: embedding service failed on {} {}", id, ex.getRequestMethod(), path, e);
      status = respondQuietly(ex, 500, internal(ex, id));
    }
    metrics.record(endpoint, status, System.nanoTime() - t0);
  }

  private int route(HttpExchange ex, String path) throws IOException {
    String method = ex.getRequestMethod();
    if (HttpDefences.Workers.shedding()) {
      ex.getResponseHeaders().set("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
      ex.getResponseHeaders().set("Connection", "close");
      return respond(ex, 503, error("overloaded", workers.overloadedMessage()));
    }
    switch (path) {
      case LIVE_PATH -> {
        return get(ex, method)
            ? respond(ex, 200, Map.of("status", "live"))
            : methodNotAllowed(ex, "GET, HEAD");
      }
      case READY_PATH -> {
        return get(ex, method) ? ready(ex) : methodNotAllowed(ex, "GET, HEAD");
      }
      case METRICS_PATH -> {
        return get(ex, method) ? metricsText(ex) : methodNotAllowed(ex, "GET, HEAD");
      }
      case EMBED_PATH -> {
        if (!authorized(ex)) {
          return unauthorized(ex);
        }
        return method.equals("POST") ? embed(ex) : methodNotAllowed(ex, "POST");
      }
      case MODELS_PATH -> {
        if (!authorized(ex)) {
          return unauthorized(ex);
        }
        return get(ex, method) ? respond(ex, 200, models()) : methodNotAllowed(ex, "GET, HEAD");
      }
      default -> {
        if (path.startsWith("/v1/") && !authorized(ex)) {
          return unauthorized(ex); // do not even reveal which /v1 routes exist
        }
        return respond(
            ex, 404, error("not_found", "no route " + path + "; POST images to " + EMBED_PATH));
      }
    }
  }

  private static boolean get(HttpExchange ex, String method) {
    return method.equals("GET") || method.equals("HEAD");
  }

  // ---- /v1/embed
  // -------------------------------------------------------------------------------------------

  private int embed(HttpExchange ex) throws IOException {
    long id = requests.incrementAndGet();
    String origin =
        "request #" + id + " from " + ex.getRemoteAddress().getAddress().getHostAddress();

    // Content type first: a body we cannot use is refused without reading it.
    String mime = ex.getRequestHeaders().getFirst("Content-Type");
    ContentType declared = null;
    if (mime != null) {
      String base = mime.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      if (!base.isEmpty() && !base.equals("application/octet-stream")) {
        declared = IMAGE_TYPES.get(base);
        if (declared == null) {
          return refuse(
              ex,
              415,
              Reason.UNSUPPORTED_TYPE,
              origin
                  + ": Content-Type "
                  + mime
                  + " is not image/jpeg, image/png, image/gif, image/bmp or application/octet-stream");
        }
      }
    }
    // Size before reading: Content-Length when given; otherwise (chunked) the read below stops one
    // byte past it.
    String lengthHeader = ex.getRequestHeaders().getFirst("Content-Length");
    if (lengthHeader != null) {
      long length;
      try {
        length = Long.parseLong(lengthHeader.trim());
      } catch (NumberFormatException e) {
        length = -1;
      }
      if (length < 0) {
        return respond(
            ex,
            400,
            error("bad_request", origin + ": Content-Length '" + lengthHeader + "' is invalid"));
      }
      if (length > options.maxBytes()) {
        ex.getResponseHeaders()
            .set("Connection", "close"); // the body is left unread: never drain what we refuse
        return refuse(
            ex,
            413,
            Reason.TOO_MANY_BYTES,
            origin
                + ": Content-Length "
                + length
                + " exceeds the limit of "
                + options.maxBytes()
                + " bytes");
      }
    }
    if (encoder.current().isEmpty()) {
      return notReady(ex);
    }
    // Not closed here: closing an unfinished body drops the connection before the answer (see
    // respond).
    byte[] data = ex.getRequestBody().readNBytes((int) options.maxBytes() + 1);
    if (data.length > options.maxBytes()) {
      ex.getResponseHeaders().set("Connection", "close");
      return refuse(
          ex,
          413,
          Reason.TOO_MANY_BYTES,
          origin + ": body exceeds the limit of " + options.maxBytes() + " bytes");
    }
    if (data.length == 0) {
      return refuse(ex, 400, Reason.EMPTY, origin + ": empty body; POST an image");
    }
    Optional<ContentType> sniffed = ImageFormats.sniff(data);
    if (sniffed.isEmpty()) {
      return refuse(
          ex,
          415,
          Reason.UNSUPPORTED_TYPE,
          origin
              + ": "
              + data.length
              + " bytes are not a JPEG, PNG, GIF or BMP (leading bytes "
              + hex(data, 8)
              + ")");
    }
    if (declared != null && declared != sniffed.get()) {
      return refuse(
          ex,
          415,
          Reason.UNSUPPORTED_TYPE,
          origin + ": Content-Type " + mime + " but the bytes are a " + sniffed.get());
    }
    Embedding e;
    try {
      if (!decodes.enter(DECODE_WAIT_MILLIS)) {
        metrics.shed();
        ex.getResponseHeaders().set("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
        return respond(
            ex,
            503,
            error(
                "overloaded",
                "all "
                    + decodes.permits()
                    + " decode slots stayed busy for "
                    + DECODE_WAIT_MILLIS
                    + " ms; retry later"));
      }
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw new IOException(
          "interrupted while waiting for a decode slot (the service is stopping)", interrupted);
    }
    try {
      // The decoded image lives until the encoder has read it: both under the permit.
      DecodedImage image = decoder.decode(sniffed.get(), data, null, null, origin);
      e = encoder.embed(image);
    } catch (FrameRejectedException rejected) {
      return refuse(ex, status(rejected.reason()), rejected.reason(), rejected.getMessage());
    } catch (NotReadyException notReady) {
      return notReady(ex);
    } finally {
      decodes.exit();
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("model", e.model());
    body.put("version", e.version());
    body.put("vector", e.vector());
    return respond(ex, 200, body);
  }

  /** HTTP status of an image refusal: too large is 413, an unusable type 415, anything else 400. */
  static int status(Reason reason) {
    return reason.httpStatus();
  }

  private int refuse(HttpExchange ex, int status, Reason reason, String message)
      throws IOException {
    log.debug("refused {} ({}): {}", reason, status, message);
    return respond(ex, status, error(reason.name().toLowerCase(Locale.ROOT), message));
  }

  private int notReady(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
    return respond(
        ex,
        503,
        error(
            "not_ready",
            "no verified version of model "
                + options.model()
                + " on "
                + options.topic()
                + " is serving yet"));
  }

  // ---- /v1/models, health, metrics
  // ----------------------------------------------------------------------------

  private Map<String, Object> models() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("model", options.model());
    body.put("topic", options.topic());
    body.put("policy", encoder.policy().toString());
    Optional<CurrentVersion> current = encoder.current();
    body.put("ready", current.isPresent());
    body.put("current", current.map(EmbeddingService::describe).orElse(null));
    LiveEncoder.Stats stats =
        encoder.stats(); // one snapshot: the figures below agree with each other
    Map<String, Object> versions = new LinkedHashMap<>();
    versions.put("accepted", stats.accepted());
    versions.put("swaps", stats.swaps());
    versions.put("lastSwapMillis", stats.lastSwapMillis() < 0 ? null : stats.lastSwapMillis());
    versions.put("maxSwapMillis", stats.maxSwapMillis() < 0 ? null : stats.maxSwapMillis());
    Map<String, Long> refused = new LinkedHashMap<>();
    stats.refusedByReason().forEach((r, n) -> refused.put(r.name(), n));
    versions.put("refused", refused);
    body.put("versions", versions);
    body.put("embeddings", stats.embeddings());
    return body;
  }

  /** A version as {@code /v1/models} shows it. */
  static Map<String, Object> describe(CurrentVersion c) {
    EncoderVersion m = c.manifest();
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("version", c.version());
    v.put("parentVersion", m.getParentVersion());
    v.put("step", c.step());
    v.put("createdAt", m.getCreatedAt() == null ? null : m.getCreatedAt().toString());
    v.put("servingSince", c.servingSince() == null ? null : c.servingSince().toString());
    v.put("architecture", c.architecture().toString());
    v.put("featureDim", c.featureDim());
    v.put("payloadBytes", m.getPayloadBytes());
    v.put("payloadSha256", m.getPayloadSha256());
    v.put("keyId", m.getKeyId());
    v.put("configFingerprint", m.getConfigFingerprint());
    Metrics metrics = c.metrics();
    Map<String, Object> mm = new LinkedHashMap<>();
    mm.put("loss", metrics == null ? null : metrics.getLoss());
    mm.put("knnTop1", metrics == null ? null : metrics.getKnnTop1());
    mm.put("knnTop1Head", metrics == null ? null : metrics.getKnnTop1Head());
    mm.put("imagesPerSecond", metrics == null ? null : metrics.getImagesPerSecond());
    v.put("metrics", mm);
    Lineage lineage = c.lineage();
    if (lineage == null) {
      v.put("lineage", null);
    } else {
      List<Map<String, Object>> ranges = new ArrayList<>();
      for (OffsetRange r : lineage.getRanges()) {
        Map<String, Object> range = new LinkedHashMap<>();
        range.put("topic", r.getTopic());
        range.put("partition", r.getPartition());
        range.put("fromOffset", r.getFromOffset());
        range.put("toOffset", r.getToOffset());
        ranges.add(range);
      }
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("ranges", ranges);
      l.put("stepLogTopic", lineage.getStepLogTopic());
      l.put("firstStep", lineage.getFirstStep());
      l.put("lastStep", lineage.getLastStep());
      v.put("lineage", l);
    }
    return v;
  }

  private int ready(HttpExchange ex) throws IOException {
    Optional<CurrentVersion> current = encoder.current();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("model", options.model());
    if (current.isPresent()) {
      body.put("status", "ready");
      body.put("version", current.get().version());
      return respond(ex, 200, body);
    }
    body.put("status", "not_ready");
    body.put(
        "message",
        "no verified version of model " + options.model() + " on " + options.topic() + " yet");
    return respond(ex, 503, body);
  }

  private int metricsText(HttpExchange ex) throws IOException {
    byte[] bytes = metrics.scrape().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", PROMETHEUS_CONTENT_TYPE);
    return send(ex, 200, bytes);
  }

  // ---- auth
  // ----------------------------------------------------------------------------------------------

  private boolean authorized(HttpExchange ex) {
    return token.admits(ex);
  }

  private int unauthorized(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"mocostream\"");
    // An unauthenticated body is never read: the connection closes after the answer (the JDK drains
    // 64 KiB at most).
    ex.getResponseHeaders().set("Connection", "close");
    String header = ex.getRequestHeaders().getFirst("Authorization");
    return respond(
        ex,
        401,
        error(
            "unauthorized",
            header == null
                ? "this service needs Authorization: Bearer <token>"
                : "the bearer token is not valid"));
  }

  // ---- responses
  // -------------------------------------------------------------------------------------------

  private int methodNotAllowed(HttpExchange ex, String allow) throws IOException {
    ex.getResponseHeaders().set("Allow", allow);
    return respond(
        ex,
        405,
        error("method_not_allowed", ex.getRequestMethod() + " is not allowed here; use " + allow));
  }

  /** A 500 body that says nothing about the failure but the id under which the log has it. */
  static Map<String, Object> internal(HttpExchange ex, String requestId) {
    ex.getResponseHeaders().set("X-Request-Id", requestId);
    Map<String, Object> m =
        error(
            "internal",
            "internal error; the service log has the details under request id " + requestId);
    m.put("requestId", requestId);
    return m;
  }

  private int overloadedQuietly(HttpExchange ex, String requestId) {
    try {
      ex.getResponseHeaders().set("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
      ex.getResponseHeaders().set("Connection", "close");
      ex.getResponseHeaders().set("X-Request-Id", requestId);
      return respond(
          ex,
          503,
          error(
              "overloaded",
              "not enough memory for this request now; retry later (request id "
                  + requestId
                  + ")"));
    } catch (IOException | RuntimeException | OutOfMemoryError e) {
      return 503;
    }
  }

  static Map<String, Object> error(String code, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", code);
    m.put("message", message == null ? code : message);
    return m;
  }

  private int respond(HttpExchange ex, int status, Object body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/json");
    return send(ex, status, JSON.writeValueAsBytes(body));
  }

  private int send(HttpExchange ex, int status, byte[] bytes) throws IOException {
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    OutputStream out = ex.getResponseBody();
    if (!head) {
      out.write(bytes);
      out.flush();
    }
    if (!"close".equals(ex.getResponseHeaders().getFirst("Connection"))) {
      discardRest(ex.getRequestBody(), options.maxBytes());
    }
    out.close();
    return status;
  }

  private int respondQuietly(HttpExchange ex, int status, Object body) {
    try {
      return respond(ex, status, body);
    } catch (IOException | RuntimeException e) {
      return status; // headers already sent, or the client is gone
    }
  }

  /**
   * Reads and drops what is left of a refused request body, up to the byte limit (more was refused
   * with {@code Connection: close} before reading). Closing a connection with unread bytes makes
   * TCP reset it, and the client would lose the answer just sent (the JDK server itself only drains
   * 64 KiB).
   */
  private static void discardRest(InputStream body, long limit) {
    byte[] buf = new byte[16 * 1024];
    long left = limit;
    try {
      for (int n; left > 0 && (n = body.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) {
        left -= n;
      }
    } catch (IOException e) {
      // the client went away; nothing to answer
    }
  }

  private static String hex(byte[] data, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(n, data.length); i++) {
      sb.append(String.format("%02x", data[i] & 0xFF));
    }
    return sb.toString();
  }

  /**
   * Stops accepting, lets exchanges in flight finish for up to a second, then stops the workers.
   */
  @Override
  public void close() {
    server.stop(1);
    workers.close();
    metrics.close();
    log.info("embedding service for model {} stopped", options.model());
  }
}
