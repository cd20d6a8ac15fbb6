package io.mocostream.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The page's server on its own: read-only, same-origin scripts only, and a state whose parts stay
 * bounded.
 */
class DashboardServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void servesThePageReadOnlyUnderAContentSecurityPolicy() throws Exception {
    DashboardState state = new DashboardState();
    try (DashboardServer server = DashboardServer.start("127.0.0.1", 0, state)) {
      URI base = server.uri();
      HttpResponse<String> page = get(base.resolve("/"));
      assertEquals(200, page.statusCode());
      assertTrue(page.body().contains("<script src=\"app.js\"></script>"), page.body());
      String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
      assertTrue(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), csp);
      assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));
      assertEquals(200, get(base.resolve("/vendor/uPlot.iife.min.js")).statusCode());
      assertEquals(200, get(base.resolve("/app.js")).statusCode());
      HttpResponse<String> json = get(base.resolve(DashboardServer.STATE_PATH));
      assertEquals(200, json.statusCode());
      assertTrue(
          json.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
      assertTrue(json.body().startsWith("{\"now\":"), json.body());
      assertEquals(404, get(base.resolve("/../../etc/passwd")).statusCode());
      assertEquals(404, get(base.resolve("/web/app.js")).statusCode());
      HttpResponse<String> post =
          http.send(
              HttpRequest.newBuilder(base.resolve(DashboardServer.STATE_PATH))
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(405, post.statusCode());
    }
  }

  @Test
  void aFloodOfDistinctReasonsAndStepsStaysBounded() {
    DashboardState state = new DashboardState();
    state.addModel("m");
    for (int i = 0; i < 10 * DashboardState.MAX_STEPS; i++) {
      state.step("m", i, 1.0, 8, 1_000L * i, false);
    }
    for (int i = 0; i < 1000; i++) {
      state.deadLetter(
          "REASON_" + i + "\n" + "x".repeat(10_000), "m".repeat(100_000), null, null, 60_000L * i);
    }
    Map<String, Object> s = state.snapshot();
    @SuppressWarnings("unchecked")
    Map<String, Object> model = ((List<Map<String, Object>>) s.get("models")).get(0);
    assertEquals(
        DashboardState.MAX_STEPS, ((List<?>) ((Map<?, ?>) model.get("steps")).get("step")).size());
    assertEquals(10L * DashboardState.MAX_STEPS, model.get("stepCount"));
    Map<?, ?> dlq = (Map<?, ?>) s.get("deadLetters");
    Map<?, ?> totals = (Map<?, ?>) dlq.get("totals");
    assertEquals(DashboardState.MAX_REASONS + 1, totals.size(), "32 reasons and the rest together");
    assertEquals(1000L - DashboardState.MAX_REASONS, totals.get(DashboardState.OTHER_REASON));
    for (Object reason : totals.keySet()) {
      assertTrue(
          ((String) reason).length() <= 65 && !((String) reason).contains("\n"),
          "bounded, one line: " + reason);
    }
    assertTrue(((List<?>) dlq.get("minutes")).size() <= DashboardState.MAX_DLQ_MINUTES);
    List<?> recent = (List<?>) dlq.get("recent");
    assertEquals(DashboardState.MAX_RECENT, recent.size());
    assertTrue(((String) ((Map<?, ?>) recent.get(0)).get("message")).length() <= 301);
  }

  private HttpResponse<String> get(URI uri) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
