package io.mocostream.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Plain java.net.http calls to a registry, so conformance tests see exactly what goes over the
 * wire.
 */
public final class RawHttp {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private final String base;

  public RawHttp(String base) {
    this.base = base;
  }

  /**
   * One answer: status, raw body, body as JSON (null when not JSON), and the Content-Type header.
   */
  public record Reply(int status, String body, JsonNode json, String contentType) {
    /**
     * Asserts a Confluent error answer: this status, this error_code, a message, and nothing else.
     */
    public Reply assertError(int expectedStatus, int expectedCode) {
      assertEquals(expectedStatus, status, () -> "status of " + body);
      assertTrue(json != null && json.isObject(), () -> "error body is not a JSON object: " + body);
      assertEquals(expectedCode, json.path("error_code").asInt(-1), () -> "error_code of " + body);
      assertTrue(
          json.path("message").isTextual() && !json.path("message").asText().isEmpty(), body);
      assertEquals(2, json.size(), () -> "error JSON has exactly error_code and message: " + body);
      return this;
    }

    public Reply assertOk() {
      assertEquals(200, status, () -> "status of " + body);
      return this;
    }

    public String message() {
      return json.path("message").asText();
    }
  }

  public Reply get(String path) {
    return send("GET", path, null);
  }

  public Reply delete(String path) {
    return send("DELETE", path, null);
  }

  public Reply post(String path, String body) {
    return send("POST", path, body);
  }

  public Reply put(String path, String body) {
    return send("PUT", path, body);
  }

  /** {"schema": "<schema text>"} */
  public static String schemaBody(String schemaText) {
    ObjectNode body = JSON.createObjectNode().put("schema", schemaText);
    return body.toString();
  }

  public Reply send(String method, String path, String body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/vnd.schemaregistry.v1+json");
    }
    try {
      HttpResponse<String> response =
          HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json;
      try {
        json = JSON.readTree(response.body());
      } catch (IOException e) {
        json = null;
      }
      return new Reply(
          response.statusCode(),
          response.body(),
          json,
          response.headers().firstValue("Content-Type").orElse(null));
    } catch (IOException e) {
      throw new AssertionError(method + " " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
