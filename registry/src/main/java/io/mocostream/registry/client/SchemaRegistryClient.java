package io.mocostream.registry.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client of a Confluent-compatible schema registry (Confluent's REST API, so it works against
 * {@code confluentinc/cp-schema-registry} and against {@code EmbeddedSchemaRegistry} alike).
 *
 * <p>Ids are cached per subject and schema, schemas per id: a serializer asks the registry once per
 * schema and a deserializer once per id, then never again. Thread-safe. Confluent's own client
 * ({@code io.confluent:kafka-schema-registry-client}) is not on Maven Central, which is why this
 * one exists; it is deliberately thin, on the JDK's HttpClient and Jackson.
 *
 * <p>With several base URLs, a URL that cannot be reached (connect failure or timeout) is skipped
 * and the next one tried; the URL that last answered is tried first next time. An error answer
 * (4xx/5xx) is not retried: another replica would say the same.
 */
public final class SchemaRegistryClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SchemaRegistryClient.class);

  /** Content type of Confluent's API, sent with every request body. */
  public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  // What Confluent's RestService sends: a registry behind a proxy may negotiate on it.
  private static final String ACCEPT =
      "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RegistryClientConfig config;
  private final HttpClient http;
  private final String authorization;
  private final AtomicInteger preferredUrl = new AtomicInteger();
  private final AtomicLong requests = new AtomicLong();
  private final ConcurrentMap<String, ConcurrentMap<Schema, Integer>> idsBySubject =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<Integer, Schema> schemasById = new ConcurrentHashMap<>();

  public SchemaRegistryClient(RegistryClientConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            // Confluent's registry speaks HTTP/1.1; skipping the h2c upgrade dance keeps every
            // request one round trip.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER);
    if (config.sslContext() != null) {
      builder.sslContext(config.sslContext());
    }
    this.http = builder.build();
    this.authorization =
        config.bearerToken() != null
            ? "Bearer " + config.bearerToken()
            : config.basicAuthUserInfo() == null
                ? null
                : "Basic "
                    + Base64.getEncoder()
                        .encodeToString(
                            config.basicAuthUserInfo().getBytes(StandardCharsets.UTF_8));
  }

  /** A client from Kafka-style configs named as in {@link SchemaRegistryClientConfig}. */
  public static SchemaRegistryClient fromConfigs(Map<String, ?> configs) {
    return new SchemaRegistryClient(RegistryClientConfig.fromConfigs(configs));
  }

  public RegistryClientConfig config() {
    return config;
  }

  /** HTTP requests this client has sent (every URL tried counts), for tests and metrics. */
  public long requestCount() {
    return requests.get();
  }

  /**
   * Registers {@code schema} under {@code subject} (POST /subjects/{subject}/versions) and returns
   * its global id; registering an already registered schema returns the existing id. Cached.
   *
   * @throws RegistryException 409 when incompatible with the subject's compatibility level,
   *     422/42201 when invalid
   */
  public int register(String subject, Schema schema) {
    Integer cached = cachedId(subject, schema);
    if (cached != null) {
      return cached;
    }
    JsonNode reply =
        send("POST", "/subjects/" + enc(subject) + "/versions", schemaBody(schema), subject);
    int id = requireInt(reply, "id", subject);
    remember(subject, schema, id);
    return id;
  }

  /**
   * The id of {@code schema} if it is registered under {@code subject} (POST /subjects/{subject});
   * cached.
   *
   * @throws RegistryException 404/40401 when the subject does not exist, 404/40403 when the schema
   *     is not in it
   */
  public int getId(String subject, Schema schema) {
    Integer cached = cachedId(subject, schema);
    if (cached != null) {
      return cached;
    }
    return lookup(subject, schema).id();
  }

  /**
   * Looks {@code schema} up in {@code subject} (POST /subjects/{subject}), uncached, with its
   * version.
   */
  public SchemaMetadata lookup(String subject, Schema schema) {
    JsonNode reply = send("POST", "/subjects/" + enc(subject), schemaBody(schema), subject);
    SchemaMetadata meta = metadata(reply, subject);
    remember(subject, schema, meta.id());
    return meta;
  }

  /**
   * The schema with global id {@code id} (GET /schemas/ids/{id}); cached forever, as ids are
   * immutable.
   */
  public Schema getById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode reply = send("GET", "/schemas/ids/" + id, null, null);
    String type = reply.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new RegistryException(
          "schema id " + id + " is of type " + type + "; only AVRO schemas are supported",
          200,
          0,
          url("/schemas/ids/" + id),
          null,
          null);
    }
    Schema schema = parse(requireText(reply, "schema", null), "schema id " + id, null);
    Schema raced = schemasById.putIfAbsent(id, schema);
    return raced != null ? raced : schema;
  }

  /**
   * The latest version of {@code subject} (GET /subjects/{subject}/versions/latest); not cached.
   */
  public SchemaMetadata getLatest(String subject) {
    return metadata(
        send("GET", "/subjects/" + enc(subject) + "/versions/latest", null, subject), subject);
  }

  /** Version {@code version} of {@code subject} (GET /subjects/{subject}/versions/{version}). */
  public SchemaMetadata getVersion(String subject, int version) {
    return metadata(
        send("GET", "/subjects/" + enc(subject) + "/versions/" + version, null, subject), subject);
  }

  /** All subjects with at least one live version (GET /subjects). */
  public List<String> subjects() {
    JsonNode reply = send("GET", "/subjects", null, null);
    List<String> out = new ArrayList<>();
    reply.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** Live versions of {@code subject} (GET /subjects/{subject}/versions). */
  public List<Integer> versions(String subject) {
    return intList(send("GET", "/subjects/" + enc(subject) + "/versions", null, subject));
  }

  /**
   * Whether {@code schema} could be registered under {@code subject} now (checked against the
   * latest version).
   */
  public boolean testCompatibility(String subject, Schema schema) {
    return checkCompatibility(subject, schema).compatible();
  }

  /** As {@link #testCompatibility} with the registry's reasons (?verbose=true). */
  public CompatibilityCheck checkCompatibility(String subject, Schema schema) {
    JsonNode reply =
        send(
            "POST",
            "/compatibility/subjects/" + enc(subject) + "/versions/latest?verbose=true",
            schemaBody(schema),
            subject);
    List<String> messages = new ArrayList<>();
    reply.path("messages").forEach(n -> messages.add(n.asText()));
    return new CompatibilityCheck(reply.path("is_compatible").asBoolean(false), messages);
  }

  /**
   * The compatibility level in force: the global one for a null subject, else the subject's own
   * level or, when it has none, the global one ({@code GET
   * /config/{subject}?defaultToGlobal=true}).
   */
  public String getCompatibility(String subjectOrNull) {
    String path =
        subjectOrNull == null
            ? "/config"
            : "/config/" + enc(subjectOrNull) + "?defaultToGlobal=true";
    return requireText(send("GET", path, null, subjectOrNull), "compatibilityLevel", subjectOrNull);
  }

  /**
   * Sets the global (null subject) or the subject's compatibility level (PUT /config[/subject]).
   */
  public void setCompatibility(String subjectOrNull, String level) {
    if (CompatibilityLevel.parse(level) == null) {
      throw new IllegalArgumentException(
          "unknown compatibility level '"
              + level
              + "'; valid levels: "
              + CompatibilityLevel.validNames());
    }
    ObjectNode body =
        JSON.createObjectNode()
            .put("compatibility", level.trim().toUpperCase(java.util.Locale.ROOT));
    String path = subjectOrNull == null ? "/config" : "/config/" + enc(subjectOrNull);
    send("PUT", path, body, subjectOrNull);
  }

  /**
   * Soft-deletes every version of {@code subject} (DELETE /subjects/{subject}); returns the
   * versions deleted.
   */
  public List<Integer> deleteSubject(String subject) {
    return deleteSubject(subject, false);
  }

  /**
   * Deletes {@code subject}: soft, or for good with {@code permanent} (which Confluent allows only
   * after a soft delete). Returns the versions deleted and forgets the subject's cached ids.
   */
  public List<Integer> deleteSubject(String subject, boolean permanent) {
    List<Integer> deleted =
        intList(
            send(
                "DELETE",
                "/subjects/" + enc(subject) + (permanent ? "?permanent=true" : ""),
                null,
                subject));
    idsBySubject.remove(subject);
    return deleted;
  }

  /**
   * Forgets cached ids and schemas. Nothing else to release: the JDK HttpClient frees its threads
   * when unused.
   */
  @Override
  public void close() {
    idsBySubject.clear();
    schemasById.clear();
  }

  // ---------------------------------------------------------------------------------------------------- internals

  private Integer cachedId(String subject, Schema schema) {
    Map<Schema, Integer> ids = idsBySubject.get(subject);
    return ids == null ? null : ids.get(schema);
  }

  private void remember(String subject, Schema schema, int id) {
    idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>()).put(schema, id);
    schemasById.putIfAbsent(id, schema);
  }

  private static ObjectNode schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString());
  }

  private SchemaMetadata metadata(JsonNode reply, String subject) {
    return new SchemaMetadata(
        requireInt(reply, "id", subject),
        requireInt(reply, "version", subject),
        reply.path("subject").asText(subject),
        requireText(reply, "schema", subject));
  }

  private Schema parse(String text, String what, String subject) {
    try {
      return new Schema.Parser().parse(text);
    } catch (SchemaParseException e) {
      throw new RegistryException(
          "registry returned " + what + " that Avro cannot parse: " + e.getMessage(),
          200,
          0,
          null,
          subject,
          e);
    }
  }

  private int requireInt(JsonNode reply, String field, String subject) {
    JsonNode n = reply.get(field);
    if (n == null || !n.canConvertToInt()) {
      throw malformed(reply, field, subject);
    }
    return n.asInt();
  }

  private String requireText(JsonNode reply, String field, String subject) {
    JsonNode n = reply.get(field);
    if (n == null || !n.isTextual()) {
      throw malformed(reply, field, subject);
    }
    return n.asText();
  }

  private RegistryException malformed(JsonNode reply, String field, String subject) {
    String shown = reply.toString();
    return new RegistryException(
        "registry reply has no '" + field + "': " + abbreviate(shown), 200, 0, null, subject, null);
  }

  private static List<Integer> intList(JsonNode reply) {
    List<Integer> out = new ArrayList<>();
    reply.forEach(n -> out.add(n.asInt()));
    return out;
  }

  /** Percent-encodes a path segment (subjects may hold '/', ' ', '+', ...). */
  static String enc(String segment) {
    return URLEncoder.encode(Objects.requireNonNull(segment, "subject"), StandardCharsets.UTF_8)
        .replace("+", "%20");
  }

  private String url(String path) {
    return config.baseUrls().get(Math.floorMod(preferredUrl.get(), config.baseUrls().size()))
        + path;
  }

  /** Sends one request, trying each base URL in turn while they cannot be reached. */
  private JsonNode send(String method, String path, JsonNode body, String subject) {
    byte[] payload;
    try {
      payload = body == null ? null : JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    List<URI> urls = config.baseUrls();
    int start = preferredUrl.get();
    StringBuilder failures = new StringBuilder();
    IOException lastFailure = null;
    String lastUrl = null;
    for (int i = 0; i < urls.size(); i++) {
      int index = Math.floorMod(start + i, urls.size());
      String url = urls.get(index) + path;
      lastUrl = url;
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(config.requestTimeout())
              .header("Accept", ACCEPT)
              .method(
                  method,
                  payload == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofByteArray(payload));
      if (payload != null) {
        request.header("Content-Type", CONTENT_TYPE);
      }
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      HttpResponse<byte[]> response;
      try {
        requests.incrementAndGet();
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        lastFailure = e;
        failures
            .append(failures.length() == 0 ? "" : "; ")
            .append(urls.get(index))
            .append(": ")
            .append(e.getClass().getSimpleName())
            .append(e.getMessage() == null ? "" : " " + e.getMessage());
        log.debug("schema registry {} {} unreachable, trying the next URL", method, url, e);
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException(
            "interrupted during schema registry " + method + " " + url, -1, -1, url, subject, e);
      }
      preferredUrl.set(index);
      return handle(method, url, subject, response);
    }
    throw new RegistryException(
        "schema registry unreachable for "
            + method
            + " "
            + path
            + (subject == null ? "" : " (subject '" + subject + "')")
            + " after trying "
            + urls.size()
            + " URL(s) with "
            + config.connectTimeout().toMillis()
            + " ms connect / "
            + config.requestTimeout().toMillis()
            + " ms request timeouts: "
            + failures,
        RegistryException.NO_RESPONSE,
        RegistryException.NO_RESPONSE,
        lastUrl,
        subject,
        lastFailure);
  }

  private static JsonNode handle(
      String method, String url, String subject, HttpResponse<byte[]> response) {
    int status = response.statusCode();
    byte[] bytes = response.body();
    JsonNode json = null;
    try {
      json = bytes == null || bytes.length == 0 ? NullNode.getInstance() : JSON.readTree(bytes);
    } catch (IOException e) {
      // Not JSON: a proxy page or similar. Reported below with the raw text.
    }
    if (status / 100 == 2) {
      if (json == null) {
        throw new RegistryException(
            "schema registry "
                + method
                + " "
                + url
                + " answered HTTP "
                + status
                + " with a body that is not JSON: "
                + abbreviate(new String(bytes, StandardCharsets.UTF_8)),
            status,
            0,
            url,
            subject,
            null);
      }
      return json;
    }
    int errorCode = status;
    String message;
    if (json != null && json.has("error_code")) {
      errorCode = json.path("error_code").asInt(status);
      message = json.path("message").asText("");
    } else {
      message = abbreviate(bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8));
    }
    throw new RegistryException(
        "schema registry "
            + method
            + " "
            + url
            + (subject == null ? "" : " (subject '" + subject + "')")
            + " failed: HTTP "
            + status
            + ", error_code "
            + errorCode
            + ": "
            + message,
        status,
        errorCode,
        url,
        subject,
        null);
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "…(" + s.length() + " chars)";
  }
}
