package io.mocostream.producer.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mocostream.producer.publish.PublishedFrame;
import io.mocostream.producer.source.SourceItem;
import io.mocostream.frames.ImageFormats;
import io.mocostream.producer.validate.FrameValidator;
import io.mocostream.producer.validate.Refusal;
import io.mocostream.frames.Reason;
import io.mocostream.producer.validate.Verdict;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upload endpoint: {@code POST /v1/frames} with the image as the body. The answer comes only after Kafka
 * acknowledged the frame (acks=all), so a 201 means the frame is durably in the topic.
 *
 * <ul>
 *   <li>201 {@code {"topic","partition","offset","sourceId","sequence"}}
 *   <li>400 empty, undecodable or truncated image, bad parameter; 413 over the byte limit (judged from
 *       Content-Length before reading, and the read is capped for chunked bodies) or the pixel limit;
 *       415 a Content-Type that is not image/jpeg|png|gif|bmp or disagrees with the bytes. Errors are
 *       {@code {"error": reason code, "message": ...}} and are counted as refusals.
 *   <li>503 when the broker or registry fails, or the producer is stopping.
 * </ul>
 * Source id: header {@value #SOURCE_ID_HEADER} or query {@code sourceId}; label: header {@value #LABEL_HEADER} or
 * query {@code label}. {@code GET /health} answers 200 while the endpoint runs.
 *
 * <p>JDK's {@code com.sun.net.httpserver} (module jdk.httpserver, a supported, exported API): one POST route needs
 * no web framework and no extra dependency. Requests run on a fixed pool so that concurrent uploads share
 * producer batches while each waits for its acknowledgement.
 */
public final class FrameEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FrameEndpoint.class);

  public static final String FRAMES_PATH = "/v1/frames";
  public static final String HEALTH_PATH = "/health";
  public static final String SOURCE_ID_HEADER = "X-Source-Id";
  public static final String LABEL_HEADER = "X-Label";
  public static final int DEFAULT_THREADS = 16;
  /** Longer than the producer's delivery timeout, which fails the future first. */
  static final long ACK_WAIT_SECONDS = 60;
  static final int MAX_SOURCE_ID_LENGTH = 256;
  /** Most bytes of a refused body read and dropped so that the client still gets its answer. */
  static final long DISCARD_LIMIT = 64L * 1024 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where accepted frames go and refusals are counted (the produce run). */
  public interface Sink {
    CompletableFuture<PublishedFrame> publish(SourceItem item, Verdict.Accepted accepted);

    void refuse(Refusal refusal);
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final FrameValidator validator;
  private final Sink sink;
  private final String defaultSourceId;
  private final AtomicLong uploads = new AtomicLong();

  private FrameEndpoint(HttpServer server, ExecutorService executor, FrameValidator validator, Sink sink,
      String defaultSourceId) {
    this.server = server;
    this.executor = executor;
    this.validator = validator;
    this.sink = sink;
    this.defaultSourceId = defaultSourceId;
  }

  /** Binds and starts; port 0 picks a free one ({@link #port()}). */
  public static FrameEndpoint start(String host, int port, FrameValidator validator, Sink sink,
      String defaultSourceId, int threads) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 128);
    AtomicInteger n = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "frame-endpoint-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    FrameEndpoint endpoint = new FrameEndpoint(server, executor, validator, sink, defaultSourceId);
    server.createContext("/", endpoint::handle);
    server.setExecutor(executor);
    server.start();
    log.info("upload endpoint listening on http://{}:{}{}", host, endpoint.port(), FRAMES_PATH);
    return endpoint;
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
      if (path.equals(HEALTH_PATH)) {
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
        respond(ex, 404, error("not_found", "no route " + path + "; POST images to " + FRAMES_PATH));
      }
    } catch (RuntimeException e) {
      log.error("upload endpoint failed on {} {}", ex.getRequestMethod(), ex.getRequestURI(), e);
      respond(ex, 500, error("internal", e.toString()));
    }
  }

  private void upload(HttpExchange ex) throws IOException {
    long id = uploads.incrementAndGet();
    String origin = "upload#" + id + " from " + ex.getRemoteAddress().getAddress().getHostAddress();
    Map<String, String> query = query(ex.getRequestURI());

    // Content type first: a body we cannot use is refused without reading it.
    String mime = ex.getRequestHeaders().getFirst("Content-Type");
    ContentType declared = ImageFormats.fromMimeType(mime);
    if (declared == null && mime != null && !mime.trim().toLowerCase(java.util.Locale.ROOT).startsWith("application/octet-stream")) {
      refuse(ex, new Refusal(origin, Reason.UNSUPPORTED_TYPE,
          "Content-Type " + mime + " is not image/jpeg, image/png, image/gif or image/bmp"));
      return;
    }
    String sourceId = firstNonNull(ex.getRequestHeaders().getFirst(SOURCE_ID_HEADER), query.get("sourceId"),
        defaultSourceId);
    if (sourceId.isBlank() || sourceId.length() > MAX_SOURCE_ID_LENGTH) {
      refuse(ex, new Refusal(origin, Reason.BAD_REQUEST,
          "source id must be 1 to " + MAX_SOURCE_ID_LENGTH + " characters"));
      return;
    }
    String labelText = firstNonNull(ex.getRequestHeaders().getFirst(LABEL_HEADER), query.get("label"), null);
    Integer label = null;
    if (labelText != null) {
      try {
        label = Integer.parseInt(labelText.trim());
      } catch (NumberFormatException e) {
        label = -1;
      }
      if (label < 0) {
        refuse(ex, new Refusal(origin, Reason.BAD_REQUEST, "label '" + labelText + "' is not an integer ≥ 0"));
        return;
      }
    }

    // Size before reading: Content-Length when given; otherwise (chunked) read at most one byte past the limit.
    String lengthHeader = ex.getRequestHeaders().getFirst("Content-Length");
    if (lengthHeader != null) {
      long length;
      try {
        length = Long.parseLong(lengthHeader.trim());
      } catch (NumberFormatException e) {
        length = -1;
      }
      if (length < 0) {
        refuse(ex, new Refusal(origin, Reason.BAD_REQUEST, "Content-Length '" + lengthHeader + "' is invalid"));
        return;
      }
      Optional<Refusal> size = validator.checkSize(origin, length);
      if (size.isPresent()) {
        refuse(ex, size.get());
        return;
      }
    }
    // Not closed here: closing an unfinished body drops the connection before the answer (see respond).
    byte[] data = ex.getRequestBody().readNBytes((int) validator.limits().maxBytes() + 1);
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
    SourceItem item = new SourceItem(sourceId, origin, accepted.contentType(), data, null, null, label,
        System.currentTimeMillis(), attributes);
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
      respond(ex, 503, error("unavailable", "no acknowledgement from Kafka within " + ACK_WAIT_SECONDS + " s"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      respond(ex, 503, error("stopping", "interrupted while waiting for Kafka"));
    }
  }

  private void refuse(HttpExchange ex, Refusal r) throws IOException {
    sink.refuse(r);
    respond(ex, r.reason().httpStatus(), error(r.reason().code(), r.message()));
  }

  private static void methodNotAllowed(HttpExchange ex, String allow) throws IOException {
    ex.getResponseHeaders().set("Allow", allow);
    respond(ex, 405, error("method_not_allowed", ex.getRequestMethod() + " is not allowed here; use " + allow));
  }

  private static Map<String, Object> error(String code, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", code);
    m.put("message", message == null ? code : message);
    return m;
  }

  private static void respond(HttpExchange ex, int status, Object body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    OutputStream out = ex.getResponseBody();
    if (!head) {
      out.write(bytes);
      out.flush();
    }
    discardRest(ex.getRequestBody());
    out.close();
  }

  /**
   * Reads and drops what is left of a refused request body, up to {@value #DISCARD_LIMIT} bytes, without keeping
   * it. Closing a connection with unread bytes makes TCP reset it, and the client would lose the answer it was
   * just sent (the JDK server itself only drains 64 KiB). A body beyond the limit gets the connection closed.
   */
  private static void discardRest(InputStream body) {
    byte[] buf = new byte[16 * 1024];
    long left = DISCARD_LIMIT;
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
    executor.shutdownNow();
  }
}
