package io.mocostream.producer.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mocostream.frames.ImageFormats;
import io.mocostream.frames.Reason;
import io.mocostream.producer.publish.PublishedFrame;
import io.mocostream.producer.source.SourceItem;
import io.mocostream.producer.validate.FrameValidator;
import io.mocostream.producer.validate.Refusal;
import io.mocostream.producer.validate.Verdict;
import io.mocostream.registry.http.BearerToken;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.schemas.ContentType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upload endpoint: {@code POST /v1/frames} with the image as the body. The answer comes only
 * after Kafka acknowledged the frame (acks=all), so a 201 means the frame is durably in the topic.
 *
 * <ul>
 *   <li>201 {@code {"topic","partition","offset","sourceId","sequence"}}
 *   <li>400 empty, undecodable or truncated image, bad parameter; 413 over the byte limit (judged
 *       from Content-Length before reading, and the read is capped for chunked bodies) or the pixel
 *       limit; 415 a Content-Type that is not image/jpeg|png|gif|bmp or disagrees with the bytes.
 *       Errors are {@code {"error": reason code, "message": ...}} and are counted as refusals.
 *   <li>503 when the broker or registry fails, or the producer is stopping.
 * </ul>
 *
 * Source id: header {@value #SOURCE_ID_HEADER} or query {@code sourceId}; label: header {@value
 * #LABEL_HEADER} or query {@code label}. {@code GET /health} answers 200 while the endpoint runs.
 *
 * <p>JDK's {@code com.sun.net.httpserver} (module jdk.httpserver, a supported, exported API): one
 * POST route needs no web framework and no extra dependency. Requests run on a fixed pool so that
 * concurrent uploads share producer batches while each waits for its acknowledgement.
 *
 * <p>An open port is untrusted ({@link HttpDefences}): request and response deadlines cut slow
 * clients off; the pool has a bounded queue ({@value #DEFAULT_QUEUE} by default) and a request that
 * finds it full is answered 503 with {@code Retry-After}; with a token ({@value #TOKEN_ENV} in the
 * CLI) every {@code /v1/} request needs {@code Authorization: Bearer <token>} (compared in constant
 * time), else 401; 401 and an over-long Content-Length are answered with {@code Connection: close}
 * and the body left unread; a failure is answered with a generic 500 carrying a request id, the
 * details going to the log. {@code GET /health} stays open.
 */
public final class FrameEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FrameEndpoint.class);

  public static final String FRAMES_PATH = "/v1/frames";
  public static final String HEALTH_PATH = "/health";
  public static final String SOURCE_ID_HEADER = "X-Source-Id";
  public static final String LABEL_HEADER = "X-Label";
  public static final int DEFAULT_THREADS = 16;

  /** Uploads that may wait for a worker; beyond that 503 at once. */
  public static final int DEFAULT_QUEUE = 64;

  /** Environment variable the CLI reads the upload bearer token from. */
  public static final String TOKEN_ENV = "MOCOSTREAM_UPLOAD_TOKEN";

  /** Longer than the producer's delivery timeout, which fails the future first. */
  static final long ACK_WAIT_SECONDS = 60;

  static final int MAX_SOURCE_ID_LENGTH = 256;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where accepted frames go and refusals are counted (the produce run). */
  public interface Sink {
    CompletableFuture<PublishedFrame> publish(SourceItem item, Verdict.Accepted accepted);

    void refuse(Refusal refusal);
  }

  private final HttpServer server;
  private final HttpDefences.Workers executor;
  private final FrameValidator validator;
  private final Sink sink;
  private final String defaultSourceId;
  private final BearerToken bearer;
  private final AtomicLong uploads = new AtomicLong();
  private final AtomicLong shed = new AtomicLong();

  private FrameEndpoint(
      HttpServer server,
      HttpDefences.Workers executor,
      FrameValidator validator,
      Sink sink,
      String defaultSourceId,
      String token) {
    this.server = server;
    this.executor = executor;
    this.validator = validator;
    this.sink = sink;
    this.defaultSourceId = defaultSourceId;
    this.bearer = BearerToken.of(token);
  }

  /**
   * Binds and starts without a token and with the default queue; port 0 picks a free one ({@link
   * #port()}).
   */
  public static FrameEndpoint start(
      String host,
      int port,
      FrameValidator validator,
      Sink sink,
      String defaultSourceId,
      int threads)
      throws IOException {
    return start(host, port, validator, sink, defaultSourceId, threads, DEFAULT_QUEUE, null);
  }

  /**
   * Binds and starts; port 0 picks a free one ({@link #port()}).
   *
   * @param queue uploads that may wait for one of the {@code threads} workers; more are answered
   *     503
   * @param token bearer token every {@code /v1/} request must carry; null: no authentication (bind
   *     loopback then)
   */
  public static FrameEndpoint start(
      String host,
      int port,
      FrameValidator validator,
      Sink sink,
      String defaultSourceId,
      int threads,
      int queue,
      String token)
      throws IOException {
    if (token != null && token.isBlank()) {
      throw new IllegalArgumentException(
          "the upload token is blank; leave "
              + TOKEN_ENV
              + " unset to disable"
              + " authentication");
    }
    HttpServer server = HttpDefences.create(new InetSocketAddress(host, port), 128);
    HttpDefences.Workers executor =
        new HttpDefences.Workers("frame-endpoint", threads, queue, null);
    FrameEndpoint endpoint =
        new FrameEndpoint(server, executor, validator, sink, defaultSourceId, token);
    server.createContext("/", endpoint::handle);
    server.setExecutor(executor);
    server.start();
    boolean loopback = server.getAddress().getAddress().isLoopbackAddress();
    if (token == null && !loopback) {
      log.warn(
          "upload endpoint on {} accepts frames from anyone who can reach it: set {} to require a bearer"
              + " token",
          host,
          TOKEN_ENV);
    }
    log.info(
        "upload endpoint listening on http://{}:{}{} (auth: {}; deadlines: request {}, response {})",
        host,
        endpoint.port(),
        FRAMES_PATH,
        token == null ? "none" : "bearer token",
        HttpDefences.requestDeadline(),
        HttpDefences.responseDeadline());
    return endpoint;
  }

  /** Requests answered 503 because every worker and queue slot was taken. */
  public long shedCount() {
    return shed.get();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://host:port/v1/frames} as bound. */
  public URI framesUri() {
    InetSocketAddress a = server.getAddress();
    String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getHostString();
    return URI.create("http://" + host + ":" + a.getPort() + FRAMES_PATH);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      if (HttpDefences.Workers.shedding()) {
        shed.incrementAndGet();
        ex.getResponseHeaders()
            .set("Retry-After", Integer.toString(HttpDefences.RETRY_AFTER_SECONDS));
        ex.getResponseHeaders().set("Connection", "close");
        respond(ex, 503, error("overloaded", executor.overloadedMessage()));
      } else if (path.startsWith("/v1/") && !authorized(ex)) {
        unauthorized(ex);
      } else if (path.equals(HEALTH_PATH)) {
        if (method.equals("GET") || method.equals("HEAD")) {
          respond(ex, 200, Map.of("status", "ok", "uploads", uploads.get()));
        } else {
          methodNotAllowed(ex, "GET, HEAD");
        }
      } else if (path.equals(FRAMES_PATH)) {
        if (method.equals("POST")) {
          upload(ex);
        } else {
          methodNotAllowed(ex, "POST");
        }
      } else {
        respond(
            ex, 404, error("not_found", "no route " + path + "; POST images to " + FRAMES_PATH));
      }
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      String id = HttpDefences.newRequestId();
      log.error(
          "request {}: upload endpoint failed on {} {}",
          id,
          ex.getRequestMethod(),
          ex.getRequestURI().getPath(),
          e);
      ex.getResponseHeaders().set("X-Request-Id", id);
      ex.getResponseHeaders().set("Connection", "close");
      Map<String, Object> body =
          error(
              "internal",
              "internal error; the producer's log has the details under request" + " id " + id);
      body.put("requestId", id);
      try {
        respond(ex, 500, body);
      } catch (IOException | RuntimeException again) {
        // headers already sent, or the client is gone
      }
    }
  }

  private boolean authorized(HttpExchange ex) {
    return bearer.admits(ex);
  }

  private void unauthorized(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"mocostream-upload\"");
    // An unauthenticated body is never read: the connection closes after the answer (the JDK drains
    // 64 KiB at most).
    ex.getResponseHeaders().set("Connection", "close");
    String header = ex.getRequestHeaders().getFirst("Authorization");
    respond(
        ex,
        401,
        error(
            "unauthorized",
            header == null
                ? "this endpoint needs Authorization: Bearer <token>"
                : "the bearer token is not valid"));
  }

  private void upload(HttpExchange ex) throws IOException {
    long id = uploads.incrementAndGet();
    String origin = "upload#" + id + " from " + ex.getRemoteAddress().getAddress().getHostAddress();
    Map<String, String> query = query(ex.getRequestURI());

    // Content type first: a body we cannot use is refused without reading it.
    String mime = ex.getRequestHeaders().getFirst("Content-Type");
    ContentType declared = ImageFormats.fromMimeType(mime);
    if (declared == null
        && mime != null
        && !mime.trim().toLowerCase(java.util.Locale.ROOT).startsWith("application/octet-stream")) {
      refuse(
          ex,
          new Refusal(
              origin,
              Reason.UNSUPPORTED_TYPE,
              "Content-Type " + mime + " is not image/jpeg, image/png, image/gif or image/bmp"));
      return;
    }
    String sourceId =
        firstNonNull(
            ex.getRequestHeaders().getFirst(SOURCE_ID_HEADER),
            query.get("sourceId"),
            defaultSourceId);
    if (sourceId.isBlank() || sourceId.length() > MAX_SOURCE_ID_LENGTH) {
      refuse(
          ex,
          new Refusal(
              origin,
              Reason.BAD_REQUEST,
              "source id must be 1 to " + MAX_SOURCE_ID_LENGTH + " characters"));
      return;
    }
    String labelText =
        firstNonNull(ex.getRequestHeaders().getFirst(LABEL_HEADER), query.get("label"), null);
    Integer label = null;
    if (labelText != null) {
      try {
        label = Integer.parseInt(labelText.trim());
      } catch (NumberFormatException e) {
        label = -1;
      }
      if (label < 0) {
        refuse(
            ex,
            new Refusal(
                origin, Reason.BAD_REQUEST, "label '" + labelText + "' is not an integer ≥ 0"));
        return;
      }
    }

    // Size before reading: Content-Length when given; otherwise (chunked) read at most one byte
    // past the limit.
    String lengthHeader = ex.getRequestHeaders().getFirst("Content-Length");
    if (lengthHeader != null) {
      long length;
      try {
        length = Long.parseLong(lengthHeader.trim());
      } catch (NumberFormatException e) {
        length = -1;
      }
      if (length < 0) {
        refuse(
            ex,
            new Refusal(
                origin, Reason.BAD_REQUEST, "Content-Length '" + lengthHeader + "' is invalid"));
        return;
      }
      Optional<Refusal> size = validator.checkSize(origin, length);
      if (size.isPresent()) {
        ex.getResponseHeaders()
            .set("Connection", "close"); // the body is left unread: never drain what we refuse
        refuse(ex, size.get());
        return;
      }
    }
    // Not closed here: closing an unfinished body drops the connection before the answer (see
    // respond).
    byte[] data = ex.getRequestBody().readNBytes((int) validator.limits().maxBytes() + 1);
    if (data.length > validator.limits().maxBytes()) {
      ex.getResponseHeaders().set("Connection", "close");
    }
    Verdict verdict = validator.validate(origin, data, declared, null, null);
    if (verdict instanceof Refusal r) {
      refuse(ex, r);
      return;
    }
    Verdict.Accepted accepted = (Verdict.Accepted) verdict;
    Map<String, String> attributes = new HashMap<>();
    attributes.put("remote", ex.getRemoteAddress().getAddress().getHostAddress());
    String fileName = ex.getRequestHeaders().getFirst("X-File-Name");
    if (fileName != null && !fileName.isBlank()) {
      attributes.put("file", fileName);
    }
    SourceItem item =
        new SourceItem(
            sourceId,
            origin,
            accepted.contentType(),
            data,
            null,
            null,
            label,
            System.currentTimeMillis(),
            attributes);
    try {
      PublishedFrame p = sink.publish(item, accepted).get(ACK_WAIT_SECONDS, TimeUnit.SECONDS);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("topic", p.topic());
      body.put("partition", p.partition());
      body.put("offset", p.offset());
      body.put("sourceId", p.sourceId());
      body.put("sequence", p.sequence());
      respond(ex, 201, body);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String code = cause instanceof IllegalStateException ? "stopping" : "unavailable";
      respond(ex, 503, error(code, cause.getMessage()));
    } catch (TimeoutException e) {
      respond(
          ex,
          503,
          error("unavailable", "no acknowledgement from Kafka within " + ACK_WAIT_SECONDS + " s"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      respond(ex, 503, error("stopping", "interrupted while waiting for Kafka"));
    }
  }

  private void refuse(HttpExchange ex, Refusal r) throws IOException {
    sink.refuse(r);
    respond(ex, r.reason().httpStatus(), error(r.reason().code(), r.message()));
  }

  private void methodNotAllowed(HttpExchange ex, String allow) throws IOException {
    ex.getResponseHeaders().set("Allow", allow);
    respond(
        ex,
        405,
        error("method_not_allowed", ex.getRequestMethod() + " is not allowed here; use " + allow));
  }

  private static Map<String, Object> error(String code, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", code);
    m.put("message", message == null ? code : message);
    return m;
  }

  private void respond(HttpExchange ex, int status, Object body) throws IOException {
    respond(ex, status, body, validator.limits().maxBytes());
  }

  private static void respond(HttpExchange ex, int status, Object body, long maxDrain)
      throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    OutputStream out = ex.getResponseBody();
    if (!head) {
      out.write(bytes);
      out.flush();
    }
    if (!"close".equals(ex.getResponseHeaders().getFirst("Connection"))) {
      discardRest(ex.getRequestBody(), maxDrain);
    }
    out.close();
  }

  /**
   * Reads and drops what is left of a refused request body, up to {@code limit} bytes (the
   * validator's byte limit: a longer body was refused with {@code Connection: close} before
   * reading), without keeping it. Closing a connection with unread bytes makes TCP reset it, and
   * the client would lose the answer it was just sent (the JDK server itself only drains 64 KiB).
   */
  private static void discardRest(InputStream body, long limit) {
    byte[] buf = new byte[16 * 1024];
    long left = limit;
    try {
      for (int n; left > 0 && (n = body.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) {
        left -= n;
      }
    } catch (IOException e) {
      // The client went away; nothing to answer.
    }
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> m = new HashMap<>();
    String q = uri.getRawQuery();
    if (q == null) {
      return m;
    }
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      m.putIfAbsent(k, v);
    }
    return m;
  }

  private static String firstNonNull(String a, String b, String c) {
    return a != null ? a : b != null ? b : c;
  }

  @Override
  public void close() {
    server.stop(1);
    executor.close();
  }
}
