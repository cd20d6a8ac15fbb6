package io.mocostream.registry.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.mocostream.registry.client.CompatibilityLevel;
import io.mocostream.registry.http.HttpDefences;
import io.mocostream.registry.server.RegistryState.Version;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Confluent's REST API over the JDK's built-in HTTP server. Routes, status codes, error codes and
 * JSON shapes follow Confluent's registry so that its clients and tools work unchanged. Unknown
 * query parameters are ignored; an unknown path is 404/404, a known path with another method
 * 405/405, and any failure is an error JSON, never an HTML or stack-trace page.
 */
final class RestHandler implements HttpHandler {
  private static final Logger log = LoggerFactory.getLogger(RestHandler.class);
  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  /** Request bodies are refused past this size before they are read. */
  static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final RegistryService service;
  private final byte[] expectedAuthorization;
  private final AtomicLong requests = new AtomicLong();

  private record Response(int status, byte[] body) {}

  RestHandler(RegistryService service, String basicAuthUserInfo) {
    this.service = service;
    this.expectedAuthorization =
        basicAuthUserInfo == null
            ? null
            : ("Basic "
                    + java.util.Base64.getEncoder()
                        .encodeToString(basicAuthUserInfo.getBytes(StandardCharsets.UTF_8)))
                .getBytes(StandardCharsets.UTF_8);
  }

  long requestCount() {
    return requests.get();
  }

  @Override
  public void handle(HttpExchange exchange) {
    requests.incrementAndGet();
    Response response;
    try {
      if (HttpDefences.Workers.shedding()) {
        exchange
            .getResponseHeaders()
            .set("Retry-After", Integer.toString(HttpDefences.RETRY_AFTER_SECONDS));
        throw new RestError(
            503,
            503,
            "Service Unavailable: the registry is overloaded; retry in "
                + HttpDefences.RETRY_AFTER_SECONDS
                + " s");
      }
      authorize(exchange);
      response = route(exchange);
    } catch (RestError e) {
      if (e.status >= 500) {
        log.warn(
            "{} {} failed: {}",
            exchange.getRequestMethod(),
            exchange.getRequestURI(),
            e.getMessage(),
            e.getCause());
      }
      if (e.status == 401 || e.status == 413 || e.status == 503) {
        // The body stays unread (unauthenticated, too long, or no worker for it): close instead of
        // draining it.
        exchange.getResponseHeaders().set("Connection", "close");
      }
      response = error(e.status, e.errorCode, e.getMessage());
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      // The details go to the log only, under an id the answer carries (an exception's text can
      // name internals).
      String id = HttpDefences.newRequestId();
      log.error(
          "request {}: {} {} failed unexpectedly",
          id,
          exchange.getRequestMethod(),
          exchange.getRequestURI().getRawPath(),
          e);
      exchange.getResponseHeaders().set("X-Request-Id", id);
      exchange.getResponseHeaders().set("Connection", "close");
      response = error(500, 500, "Internal Server Error (request id " + id + ")");
    }
    try {
      exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
      exchange.sendResponseHeaders(response.status(), response.body().length);
      exchange.getResponseBody().write(response.body());
    } catch (IOException e) {
      log.debug("client of {} went away: {}", exchange.getRequestURI(), e.toString());
    } finally {
      exchange.close();
    }
  }

  private void authorize(HttpExchange exchange) {
    if (expectedAuthorization == null) {
      return;
    }
    String given = exchange.getRequestHeaders().getFirst("Authorization");
    // Constant-time comparison: the header is a credential.
    if (given == null
        || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expectedAuthorization)) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"SchemaRegistry\"");
      throw new RestError(401, 401, "Unauthorized");
    }
  }

  // ---------------------------------------------------------------------------------------------------- routes

  private Response route(HttpExchange ex) {
    String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
    List<String> p = segments(ex.getRequestURI().getRawPath());
    Map<String, String> q = query(ex.getRequestURI().getRawQuery());
    boolean deleted = flag(q, "deleted");
    int n = p.size();
    if (n == 0) {
      return method.equals("GET") ? ok(JSON.createObjectNode()) : notAllowed();
    }
    switch (p.get(0)) {
      case "subjects":
        if (n == 1) {
          return method.equals("GET")
              ? ok(strings(service.subjects(deleted, q.get("subjectPrefix"))))
              : notAllowed();
        }
        String subject = p.get(1);
        if (n == 2) {
          switch (method) {
            case "POST":
              return ok(versionJson(service.lookup(subject, schemaOf(body(ex), false), deleted)));
            case "DELETE":
              return ok(ints(service.deleteSubject(subject, flag(q, "permanent"))));
            default:
              return notAllowed();
          }
        }
        if (!p.get(2).equals("versions")) {
          return notFound();
        }
        if (n == 3) {
          switch (method) {
            case "GET":
              return ok(
                  ints(service.versions(subject, deleted).stream().map(Version::version).toList()));
            case "POST":
              return ok(
                  JSON.createObjectNode()
                      .put("id", service.register(subject, schemaOf(body(ex), true))));
            default:
              return notAllowed();
          }
        }
        String version = p.get(3);
        if (n == 4) {
          switch (method) {
            case "GET":
              return ok(versionJson(service.version(subject, version, deleted)));
            case "DELETE":
              return ok(
                  JSON.getNodeFactory()
                      .numberNode(service.deleteVersion(subject, version, flag(q, "permanent"))));
            default:
              return notAllowed();
          }
        }
        if (n == 5 && p.get(4).equals("schema")) {
          return method.equals("GET")
              ? raw(service.version(subject, version, deleted).schema())
              : notAllowed();
        }
        if (n == 5 && p.get(4).equals("referencedby")) {
          if (!method.equals("GET")) {
            return notAllowed();
          }
          service.version(subject, version, deleted);
          return ok(
              JSON.createArrayNode()); // AVRO schemas here carry no references, so none refer to
          // this one
        }
        return notFound();
      case "schemas":
        return schemas(method, p, q, deleted);
      case "config":
        return config(ex, method, p, q);
      case "mode":
        return mode(ex, method, p, q);
      case "compatibility":
        if (n >= 4 && n <= 5 && p.get(1).equals("subjects") && p.get(3).equals("versions")) {
          if (!method.equals("POST")) {
            return notAllowed();
          }
          Schema schema = schemaOf(body(ex), false);
          List<String> problems =
              service.testCompatibility(p.get(2), n == 5 ? p.get(4) : null, schema);
          ObjectNode out = JSON.createObjectNode().put("is_compatible", problems.isEmpty());
          if (flag(q, "verbose")) {
            ArrayNode messages = out.putArray("messages");
            problems.forEach(messages::add);
          }
          return ok(out);
        }
        return notFound();
      default:
        return notFound();
    }
  }

  private Response schemas(String method, List<String> p, Map<String, String> q, boolean deleted) {
    int n = p.size();
    if (n == 1) {
      if (!method.equals("GET")) {
        return notAllowed();
      }
      ArrayNode out = JSON.createArrayNode();
      service
          .all(deleted, flag(q, "latestOnly"), q.get("subjectPrefix"))
          .forEach(v -> out.add(versionJson(v)));
      return ok(out);
    }
    if (n == 2 && p.get(1).equals("types")) {
      return method.equals("GET") ? ok(strings(List.of("AVRO"))) : notAllowed();
    }
    if (n < 3 || n > 4 || !p.get(1).equals("ids")) {
      return notFound();
    }
    int id;
    try {
      id = Integer.parseInt(p.get(2));
    } catch (NumberFormatException e) {
      return notFound(); // as Jersey does when an int path parameter does not parse
    }
    if (!method.equals("GET")) {
      return notAllowed();
    }
    if (n == 3) {
      ObjectNode out = JSON.createObjectNode().put("schema", service.schemaById(id));
      if (flag(q, "fetchMaxId")) {
        out.put("maxId", service.maxId());
      }
      return ok(out);
    }
    switch (p.get(3)) {
      case "schema":
        return raw(service.schemaById(id));
      case "versions":
        {
          ArrayNode out = JSON.createArrayNode();
          service
              .versionsOfId(id, deleted)
              .forEach(
                  v -> out.addObject().put("subject", v.subject()).put("version", v.version()));
          return ok(out);
        }
      case "subjects":
        return ok(
            strings(
                service.versionsOfId(id, deleted).stream()
                    .map(Version::subject)
                    .distinct()
                    .toList()));
      default:
        return notFound();
    }
  }

  private Response config(HttpExchange ex, String method, List<String> p, Map<String, String> q) {
    if (p.size() > 2) {
      return notFound();
    }
    String subject = p.size() == 2 ? p.get(1) : null;
    switch (method) {
      case "GET":
        {
          CompatibilityLevel level;
          if (subject == null) {
            level = service.globalLevel();
          } else {
            level = service.subjectLevel(subject);
            if (level == null) {
              if (!flag(q, "defaultToGlobal")) {
                throw RegistryService.notConfigured(subject);
              }
              level = service.globalLevel();
            }
          }
          return ok(JSON.createObjectNode().put("compatibilityLevel", level.name()));
        }
      case "PUT":
        {
          JsonNode body = body(ex);
          JsonNode given =
              body.hasNonNull("compatibility")
                  ? body.get("compatibility")
                  : body.get("compatibilityLevel");
          CompatibilityLevel level =
              given != null && given.isTextual() ? CompatibilityLevel.parse(given.asText()) : null;
          if (level == null) {
            throw new RestError(
                422,
                RestError.INVALID_COMPATIBILITY_LEVEL,
                "Invalid compatibility level"
                    + (given == null ? " (none given)" : " " + given)
                    + ". Valid values are none, backward, forward, full,"
                    + " backward_transitive, forward_transitive, and full_transitive");
          }
          return ok(
              JSON.createObjectNode()
                  .put("compatibility", service.setLevel(subject, level).name()));
        }
      case "DELETE":
        return ok(
            JSON.createObjectNode().put("compatibilityLevel", service.deleteLevel(subject).name()));
      default:
        return notAllowed();
    }
  }

  /** Only READWRITE exists here: there is no import mode and no read-only mode to switch to. */
  private Response mode(HttpExchange ex, String method, List<String> p, Map<String, String> q) {
    if (p.size() > 2) {
      return notFound();
    }
    String subject = p.size() == 2 ? p.get(1) : null;
    switch (method) {
      case "GET":
        if (subject != null && !flag(q, "defaultToGlobal")) {
          throw new RestError(
              404,
              RestError.SUBJECT_MODE_NOT_CONFIGURED,
              "Subject '" + subject + "' does not have subject-level mode configured");
        }
        return ok(JSON.createObjectNode().put("mode", "READWRITE"));
      case "PUT":
        {
          JsonNode given = body(ex).get("mode");
          if (given == null
              || !given.isTextual()
              || !given.asText().equalsIgnoreCase("READWRITE")) {
            throw new RestError(
                422,
                RestError.INVALID_MODE,
                "Invalid mode " + given + ". This registry supports READWRITE only");
          }
          return ok(JSON.createObjectNode().put("mode", "READWRITE"));
        }
      default:
        return notAllowed();
    }
  }

  // ------------------------------------------------------------------------------------------------- requests

  private static JsonNode body(HttpExchange ex) {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > MAX_BODY_BYTES) {
          throw new RestError(
              413,
              413,
              "Request body of "
                  + length.trim()
                  + " bytes is over the limit of "
                  + MAX_BODY_BYTES
                  + " bytes");
        }
      } catch (NumberFormatException e) {
        throw RestError.badRequest("Content-Length '" + length + "' is not a number");
      }
    }
    byte[] bytes;
    try (InputStream in = ex.getRequestBody()) {
      bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      throw RestError.badRequest("cannot read the request body: " + e.getMessage());
    }
    if (bytes.length > MAX_BODY_BYTES) {
      throw new RestError(
          413, 413, "Request body is over the limit of " + MAX_BODY_BYTES + " bytes");
    }
    JsonNode node;
    try {
      node = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw RestError.badRequest(e.getOriginalMessage());
    } catch (IOException e) {
      throw RestError.badRequest(e.getMessage());
    }
    if (node == null || node.isMissingNode()) {
      throw RestError.badRequest(
          "No content to map due to end-of-input: the request needs a JSON body");
    }
    if (!node.isObject()) {
      throw RestError.badRequest(
          "Cannot deserialize the request from " + node.getNodeType() + ": expected a JSON object");
    }
    return node;
  }

  /**
   * The "schema" of a register/lookup/compatibility body; only self-contained AVRO schemas are
   * served.
   */
  private static Schema schemaOf(JsonNode body, boolean registering) {
    JsonNode type = body.get("schemaType");
    if (type != null && !type.isNull() && !type.asText().equalsIgnoreCase("AVRO")) {
      throw RestError.invalidSchema(
          "Invalid schema type "
              + type.asText()
              + ": this registry stores AVRO schemas"
              + " only (JSON and PROTOBUF are not supported)");
    }
    JsonNode references = body.get("references");
    if (references != null && references.isArray() && references.size() > 0) {
      throw RestError.invalidSchema(
          "Schema references are not supported by this registry: register a"
              + " self-contained AVRO schema");
    }
    JsonNode schema = body.get("schema");
    if (schema != null && !schema.isNull() && !schema.isTextual()) {
      throw RestError.badRequest(
          "Cannot deserialize value of type `java.lang.String` from "
              + schema.getNodeType()
              + " for field 'schema': the schema must be sent as a JSON string (escaped schema text)");
    }
    return RegistryService.parseSchema(schema == null || schema.isNull() ? null : schema.asText());
  }

  static List<String> segments(String rawPath) {
    List<String> out = new ArrayList<>();
    if (rawPath == null) {
      return out;
    }
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) {
        try {
          // A '+' in a path is a plus, not a space (URLDecoder is for forms).
          out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          throw new RestError(404, 404, "HTTP 404 Not Found");
        }
      }
    }
    return out;
  }

  static Map<String, String> query(String rawQuery) {
    Map<String, String> out = new HashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        out.putIfAbsent(k, v);
      } catch (IllegalArgumentException e) {
        // A malformed parameter is ignored like an unknown one.
      }
    }
    return out;
  }

  private static boolean flag(Map<String, String> q, String name) {
    return "true".equalsIgnoreCase(q.get(name));
  }

  // ------------------------------------------------------------------------------------------------ responses

  private static ObjectNode versionJson(Version v) {
    return JSON.createObjectNode()
        .put("subject", v.subject())
        .put("version", v.version())
        .put("id", v.id())
        .put("schema", v.schema());
  }

  private static ArrayNode strings(List<String> values) {
    ArrayNode out = JSON.createArrayNode();
    values.forEach(out::add);
    return out;
  }

  private static ArrayNode ints(List<Integer> values) {
    ArrayNode out = JSON.createArrayNode();
    values.forEach(out::add);
    return out;
  }

  private static Response ok(JsonNode body) {
    return new Response(200, json(body));
  }

  private static Response raw(String text) {
    return new Response(200, text.getBytes(StandardCharsets.UTF_8));
  }

  private static Response notFound() {
    return error(404, 404, "HTTP 404 Not Found");
  }

  private static Response notAllowed() {
    return error(405, 405, "HTTP 405 Method Not Allowed");
  }

  private static Response error(int status, int code, String message) {
    return new Response(
        status, json(JSON.createObjectNode().put("error_code", code).put("message", message)));
  }

  private static byte[] json(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
