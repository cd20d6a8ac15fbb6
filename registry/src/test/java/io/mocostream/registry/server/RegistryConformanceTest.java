package io.mocostream.registry.server;

import static io.mocostream.registry.RawHttp.schemaBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.RawHttp;
import io.mocostream.registry.RawHttp.Reply;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every endpoint and error code of the embedded registry through raw HTTP, checked against what
 * Confluent's registry answers (status, error_code, JSON shape), so that clients written for
 * Confluent work unchanged.
 */
class RegistryConformanceTest {
  private static EmbeddedKafka kafka;
  private static EmbeddedSchemaRegistry registry;
  private static RawHttp http;

  private static final String V1 = record("User", "{\"name\":\"name\",\"type\":\"string\"}");
  private static final String V2_DEFAULTED =
      record(
          "User",
          "{\"name\":\"name\",\"type\":\"string\"}",
          "{\"name\":\"age\",\"type\":\"int\",\"default\":0}");
  private static final String V2_NO_DEFAULT =
      record(
          "User",
          "{\"name\":\"name\",\"type\":\"string\"}",
          "{\"name\":\"email\",\"type\":\"string\"}");

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.startTemporary();
    registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
    http = new RawHttp(registry.url());
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  static String record(String name, String... fields) {
    return "{\"type\":\"record\",\"name\":\""
        + name
        + "\",\"namespace\":\"test\",\"fields\":["
        + String.join(",", fields)
        + "]}";
  }

  private static String canonical(String schema) {
    return new Schema.Parser().parse(schema).toString();
  }

  private static int register(String subject, String schema) {
    Reply r = http.post("/subjects/" + enc(subject) + "/versions", schemaBody(schema)).assertOk();
    assertEquals(Set.of("id"), fieldNames(r.json()), r.body());
    return r.json().get("id").asInt();
  }

  private static String enc(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new TreeSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  // ------------------------------------------------------------------------------------------------ basics

  @Test
  void rootTypesAndModeAnswerLikeConfluent() {
    Reply root = http.get("/").assertOk();
    assertTrue(root.json().isObject() && root.json().isEmpty(), root.body());
    assertEquals("application/vnd.schemaregistry.v1+json", root.contentType());
    assertEquals(List.of("AVRO"), strings(http.get("/schemas/types").assertOk().json()));
    assertEquals("READWRITE", http.get("/mode").assertOk().json().get("mode").asText());
    assertEquals(
        "READWRITE",
        http.put("/mode", "{\"mode\":\"READWRITE\"}").assertOk().json().get("mode").asText());
    http.put("/mode", "{\"mode\":\"READONLY\"}").assertError(422, 42204);
    http.get("/mode/conf-mode-subject").assertError(404, 40409);
    assertEquals(
        "READWRITE",
        http.get("/mode/conf-mode-subject?defaultToGlobal=true")
            .assertOk()
            .json()
            .get("mode")
            .asText());
  }

  @Test
  void unknownPathsAndMethodsAreJsonErrors() {
    Reply unknown = http.get("/no/such/path").assertError(404, 404);
    assertEquals("application/vnd.schemaregistry.v1+json", unknown.contentType());
    http.get("/schemas/ids/not-a-number").assertError(404, 404);
    http.get("/subjects/x/nothing").assertError(404, 404);
    http.send("PATCH", "/subjects", "{}").assertError(405, 405);
    http.post("/schemas/types", "{}").assertError(405, 405);
  }

  // ------------------------------------------------------------------------------------ register
  // and read

  @Test
  void registerIsIdempotentAndIdsAreGlobal() {
    int id = register("conf-reg-value", V1);
    assertEquals(id, register("conf-reg-value", V1), "same schema, same subject: same id");
    assertEquals(
        List.of(1),
        ints(http.get("/subjects/conf-reg-value/versions").assertOk().json()),
        "re-registering adds no version");
    assertEquals(
        id,
        register("conf-reg-other-value", V1),
        "same schema under another subject reuses the id");
    // Whitespace does not make another schema: the registry compares parsed (canonical) text.
    assertEquals(id, register("conf-reg-value", V1.replace(",", " ,  ")));

    int id2 = register("conf-reg-value", V2_DEFAULTED);
    assertTrue(id2 > id, "a new schema gets a larger id");
    int maxId =
        http.get("/schemas/ids/" + id2 + "?fetchMaxId=true").assertOk().json().get("maxId").asInt();
    assertEquals(id2, maxId, "ids are max id + 1");
    assertEquals(List.of(1, 2), ints(http.get("/subjects/conf-reg-value/versions").json()));
    assertTrue(
        strings(http.get("/subjects").assertOk().json())
            .containsAll(List.of("conf-reg-value", "conf-reg-other-value")));
    assertEquals(
        List.of("conf-reg-other-value", "conf-reg-value"),
        strings(http.get("/subjects?subjectPrefix=conf-reg-").assertOk().json()),
        "sorted, filtered by prefix");
  }

  @Test
  void versionsAndSchemasReadBackInConfluentShapes() {
    int id1 = register("conf-read-value", V1);
    int id2 = register("conf-read-value", V2_DEFAULTED);

    JsonNode v1 = http.get("/subjects/conf-read-value/versions/1").assertOk().json();
    assertEquals(Set.of("subject", "version", "id", "schema"), fieldNames(v1));
    assertEquals("conf-read-value", v1.get("subject").asText());
    assertEquals(1, v1.get("version").asInt());
    assertEquals(id1, v1.get("id").asInt());
    assertEquals(canonical(V1), v1.get("schema").asText());

    for (String latest : List.of("latest", "-1")) {
      JsonNode v = http.get("/subjects/conf-read-value/versions/" + latest).assertOk().json();
      assertEquals(2, v.get("version").asInt());
      assertEquals(id2, v.get("id").asInt());
    }
    Reply raw = http.get("/subjects/conf-read-value/versions/2/schema").assertOk();
    assertEquals(
        canonical(V2_DEFAULTED), raw.body(), "the /schema endpoint returns the bare schema");

    JsonNode byId = http.get("/schemas/ids/" + id1).assertOk().json();
    assertEquals(Set.of("schema"), fieldNames(byId), "AVRO: no schemaType field, as in Confluent");
    assertEquals(canonical(V1), byId.get("schema").asText());
    assertEquals(canonical(V1), http.get("/schemas/ids/" + id1 + "/schema").assertOk().body());
    JsonNode usages = http.get("/schemas/ids/" + id2 + "/versions").assertOk().json();
    assertEquals(1, usages.size());
    assertEquals("conf-read-value", usages.get(0).get("subject").asText());
    assertEquals(2, usages.get(0).get("version").asInt());
    assertEquals(
        List.of("conf-read-value"),
        strings(http.get("/schemas/ids/" + id2 + "/subjects").assertOk().json()));
    assertEquals(
        0, http.get("/subjects/conf-read-value/versions/1/referencedby").assertOk().json().size());

    JsonNode all = http.get("/schemas?subjectPrefix=conf-read-").assertOk().json();
    assertEquals(2, all.size());
    assertEquals(Set.of("subject", "version", "id", "schema"), fieldNames(all.get(0)));
  }

  @Test
  void lookupFindsTheVersionOrSaysWhichThingIsMissing() {
    int id = register("conf-lookup-value", V1);
    JsonNode found = http.post("/subjects/conf-lookup-value", schemaBody(V1)).assertOk().json();
    assertEquals(Set.of("subject", "version", "id", "schema"), fieldNames(found));
    assertEquals(id, found.get("id").asInt());
    assertEquals(1, found.get("version").asInt());
    assertEquals("conf-lookup-value", found.get("subject").asText());

    http.post("/subjects/conf-lookup-nobody", schemaBody(V1)).assertError(404, 40401);
    http.post("/subjects/conf-lookup-value", schemaBody(V2_DEFAULTED)).assertError(404, 40403);
  }

  @Test
  void subjectNamesArePercentDecoded() {
    String subject = "odd/name with+plus-value";
    int id = register(subject, V1);
    assertTrue(strings(http.get("/subjects").json()).contains(subject));
    assertEquals(
        id,
        http.get("/subjects/" + enc(subject) + "/versions/1").assertOk().json().get("id").asInt());
  }

  @Test
  void unknownQueryParametersAreIgnored() {
    register("conf-params-value", V1);
    http.get("/subjects?foo=bar&normalize=true").assertOk();
    http.get("/subjects/conf-params-value/versions?whatever=1").assertOk();
    http.post("/subjects/conf-params-value/versions?normalize=true&x=y", schemaBody(V1)).assertOk();
    http.get("/schemas/ids/1?subject=conf-params-value&fetchMaxId=false").assertOk();
  }

  // ------------------------------------------------------------------------------------------ not
  // found

  @Test
  void notFoundCodes() {
    register("conf-nf-value", V1);
    http.get("/subjects/conf-nf-nobody/versions").assertError(404, 40401);
    Reply missingSubject = http.get("/subjects/conf-nf-nobody/versions/1").assertError(404, 40401);
    assertEquals("Subject 'conf-nf-nobody' not found.", missingSubject.message());
    http.delete("/subjects/conf-nf-nobody").assertError(404, 40401);
    Reply missingVersion = http.get("/subjects/conf-nf-value/versions/99").assertError(404, 40402);
    assertEquals("Version 99 not found.", missingVersion.message());
    http.get("/subjects/conf-nf-value/versions/99/schema").assertError(404, 40402);
    http.delete("/subjects/conf-nf-value/versions/99").assertError(404, 40402);
    http.get("/schemas/ids/987654").assertError(404, 40403);
    http.get("/schemas/ids/987654/versions").assertError(404, 40403);
  }

  // ------------------------------------------------------------------------------------------ bad
  // input

  @Test
  void invalidSchemasAre42201() {
    Reply notJson =
        http.post("/subjects/conf-bad-value/versions", schemaBody("{not a schema"))
            .assertError(422, 42201);
    assertTrue(notJson.message().startsWith("Invalid schema"), notJson.message());
    http.post(
            "/subjects/conf-bad-value/versions", schemaBody("{\"type\":\"record\",\"name\":\"R\"}"))
        .assertError(422, 42201); // no fields
    http.post(
            "/subjects/conf-bad-value/versions",
            schemaBody(record("R", "{\"name\":\"a\",\"type\":\"int\",\"default\":\"not an int\"}")))
        .assertError(422, 42201);
    http.post("/subjects/conf-bad-value/versions", schemaBody("")).assertError(422, 42201);
    http.post("/subjects/conf-bad-value/versions", "{}").assertError(422, 42201);
    for (String type : List.of("JSON", "PROTOBUF")) {
      Reply r =
          http.post(
                  "/subjects/conf-bad-value/versions",
                  "{\"schemaType\":\"" + type + "\",\"schema\":\"{\\\"type\\\":\\\"object\\\"}\"}")
              .assertError(422, 42201);
      assertTrue(r.message().contains(type) && r.message().contains("AVRO"), r.message());
    }
    http.post(
            "/subjects/conf-bad-value/versions",
            "{\"schema\":\"\\\"string\\\"\",\"references\":"
                + "[{\"name\":\"x\",\"subject\":\"y\",\"version\":1}]}")
        .assertError(422, 42201);
    http.get("/subjects/conf-bad-value/versions").assertError(404, 40401); // nothing was registered
  }

  @Test
  void malformedBodiesAreJsonErrorsNotStackTraces() {
    // Confluent's REST layer (rest-utils) answers unparseable or mis-shaped JSON with 400 /
    // error_code 400.
    http.post("/subjects/conf-json-value/versions", "{\"schema\": ").assertError(400, 400);
    http.post("/subjects/conf-json-value/versions", "[1,2]").assertError(400, 400);
    http.post("/subjects/conf-json-value/versions", "{\"schema\":{\"type\":\"string\"}}")
        .assertError(400, 400);
    http.post("/subjects/conf-json-value/versions", null).assertError(400, 400);
    http.put("/config", "not json").assertError(400, 400);
    http.post("/compatibility/subjects/conf-json-value/versions/latest", "{{")
        .assertError(400, 400);
  }

  @Test
  void invalidVersionsAre42202() {
    register("conf-ver-value", V1);
    for (String bad : List.of("0", "-2", "abc", "1.5", "99999999999")) {
      http.get("/subjects/conf-ver-value/versions/" + bad).assertError(422, 42202);
    }
    http.delete("/subjects/conf-ver-value/versions/0").assertError(422, 42202);
    http.post("/compatibility/subjects/conf-ver-value/versions/zero", schemaBody(V1))
        .assertError(422, 42202);
  }

  // -------------------------------------------------------------------------------------------
  // compatibility

  @Test
  void incompatibleRegistrationIs409WithReasons() {
    register("conf-409-value", V1);
    Reply r = http.post("/subjects/conf-409-value/versions", schemaBody(V2_NO_DEFAULT));
    // HTTP 409 as documented; error_code 40901 as current Confluent releases send.
    r.assertError(409, 40901);
    assertTrue(
        r.message().contains("incompatible with an earlier schema for subject \"conf-409-value\""),
        r.message());
    assertTrue(
        r.message().contains("READER_FIELD_MISSING_DEFAULT_VALUE") && r.message().contains("email"),
        r.message());
    assertEquals(
        List.of(1),
        ints(http.get("/subjects/conf-409-value/versions").json()),
        "nothing registered");
  }

  @Test
  void compatibilityEndpointWithAndWithoutVerbose() {
    register("conf-compat-value", V1);
    String latest = "/compatibility/subjects/conf-compat-value/versions/latest";

    JsonNode ok = http.post(latest, schemaBody(V2_DEFAULTED)).assertOk().json();
    assertEquals(Set.of("is_compatible"), fieldNames(ok));
    assertTrue(ok.get("is_compatible").asBoolean());

    JsonNode bad = http.post(latest, schemaBody(V2_NO_DEFAULT)).assertOk().json();
    assertFalse(bad.get("is_compatible").asBoolean());
    assertEquals(Set.of("is_compatible"), fieldNames(bad));

    JsonNode verbose =
        http.post(latest + "?verbose=true", schemaBody(V2_NO_DEFAULT)).assertOk().json();
    assertFalse(verbose.get("is_compatible").asBoolean());
    List<String> messages = strings(verbose.get("messages"));
    assertTrue(
        messages.get(0).contains("errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"),
        messages.toString());
    assertTrue(messages.get(0).contains("'email'"), messages.toString());
    assertTrue(messages.contains("{oldSchemaVersion: 1}"), messages.toString());
    assertTrue(messages.contains("{compatibility: 'BACKWARD'}"), messages.toString());

    JsonNode verboseOk =
        http.post(latest + "?verbose=true", schemaBody(V2_DEFAULTED)).assertOk().json();
    assertTrue(verboseOk.get("is_compatible").asBoolean());
    assertEquals(0, verboseOk.get("messages").size());

    assertTrue(
        http.post("/compatibility/subjects/conf-compat-value/versions/1", schemaBody(V2_DEFAULTED))
            .assertOk()
            .json()
            .get("is_compatible")
            .asBoolean());
    assertTrue(
        http.post("/compatibility/subjects/conf-compat-value/versions", schemaBody(V2_DEFAULTED))
            .assertOk()
            .json()
            .get("is_compatible")
            .asBoolean());
    http.post("/compatibility/subjects/conf-compat-value/versions/7", schemaBody(V1))
        .assertError(404, 40402);
    http.post(latest, schemaBody("{broken")).assertError(422, 42201);
    // No subject yet: anything is compatible with nothing (Confluent answers the same).
    assertTrue(
        http.post("/compatibility/subjects/conf-compat-nobody/versions/latest", schemaBody(V1))
            .assertOk()
            .json()
            .get("is_compatible")
            .asBoolean());
  }

  @Test
  void everyCompatibilityLevelDecidesAsAvroResolutionSays() {
    // v1 {f: string}; v2 {} drops f; v3 {f: int = 0} reads v2 data (default) but not v1 data
    // (string → int).
    String v1 = record("T", "{\"name\":\"f\",\"type\":\"string\"}");
    String v2 = record("T");
    String v3 = record("T", "{\"name\":\"f\",\"type\":\"int\",\"default\":0}");
    assertEquals(List.of(true, true), chain("BACKWARD", v1, v2, v3));
    assertEquals(List.of(true, false), chain("BACKWARD_TRANSITIVE", v1, v2, v3));
    assertEquals(List.of(true, true), chain("NONE", v1, v2, v3));

    // Adding a required field: old readers ignore it (FORWARD ok), new readers cannot read old data
    // (BACKWARD not).
    String a = record("U", "{\"name\":\"a\",\"type\":\"int\"}");
    String ab =
        record("U", "{\"name\":\"a\",\"type\":\"int\"}", "{\"name\":\"b\",\"type\":\"int\"}");
    assertEquals(List.of(false), chain("BACKWARD", a, ab));
    assertEquals(List.of(true), chain("FORWARD", a, ab));
    assertEquals(List.of(false), chain("FULL", a, ab));
    String abDefault =
        record(
            "U",
            "{\"name\":\"a\",\"type\":\"int\"}",
            "{\"name\":\"b\",\"type\":\"int\",\"default\":1}");
    assertEquals(List.of(true), chain("FULL", a, abDefault));

    // FORWARD_TRANSITIVE / FULL_TRANSITIVE: x {p:int, q:int}; y {p:int, q:int=0}; z {p:int} (drops
    // q).
    // x cannot read z data (q missing, no default in x); y can. Non-transitive only looks at y.
    String x =
        record("W", "{\"name\":\"p\",\"type\":\"int\"}", "{\"name\":\"q\",\"type\":\"int\"}");
    String y =
        record(
            "W",
            "{\"name\":\"p\",\"type\":\"int\"}",
            "{\"name\":\"q\",\"type\":\"int\",\"default\":0}");
    String z = record("W", "{\"name\":\"p\",\"type\":\"int\"}");
    assertEquals(List.of(true, true), chain("FORWARD", x, y, z));
    assertEquals(List.of(true, false), chain("FORWARD_TRANSITIVE", x, y, z));
    assertEquals(List.of(true, true), chain("FULL", x, y, z));
    assertEquals(List.of(true, false), chain("FULL_TRANSITIVE", x, y, z));
  }

  private static int chains;

  /**
   * Registers the first schema under a fresh subject at {@code level}; for each next one,
   * registered or not.
   */
  private static List<Boolean> chain(String level, String... schemas) {
    String subject = "conf-level-" + (++chains) + "-" + level.toLowerCase();
    assertEquals(
        level,
        http.put("/config/" + subject, "{\"compatibility\":\"" + level + "\"}")
            .assertOk()
            .json()
            .get("compatibility")
            .asText());
    register(subject, schemas[0]);
    List<Boolean> accepted = new ArrayList<>();
    for (int i = 1; i < schemas.length; i++) {
      Reply r = http.post("/subjects/" + subject + "/versions", schemaBody(schemas[i]));
      if (r.status() == 200) {
        accepted.add(true);
      } else {
        r.assertError(409, 40901);
        accepted.add(false);
      }
      boolean tested =
          http.post("/compatibility/subjects/" + subject + "/versions", schemaBody(schemas[i]))
              .assertOk()
              .json()
              .get("is_compatible")
              .asBoolean();
      assertTrue(
          r.status() != 200 || tested, "a registered schema tests compatible with its own subject");
    }
    return accepted;
  }

  // -------------------------------------------------------------------------------------------------- config

  @Test
  void configGlobalAndPerSubject() {
    assertEquals(
        "BACKWARD",
        http.get("/config").assertOk().json().get("compatibilityLevel").asText(),
        "default level");
    try {
      JsonNode set = http.put("/config", "{\"compatibility\":\"full\"}").assertOk().json();
      assertEquals(Set.of("compatibility"), fieldNames(set));
      assertEquals("FULL", set.get("compatibility").asText());
      assertEquals("FULL", http.get("/config").json().get("compatibilityLevel").asText());
    } finally {
      assertEquals(
          "FULL", http.delete("/config").assertOk().json().get("compatibilityLevel").asText());
    }
    assertEquals(
        "BACKWARD",
        http.get("/config").json().get("compatibilityLevel").asText(),
        "reset to default");

    http.get("/config/conf-cfg-value").assertError(404, 40408);
    assertEquals(
        "BACKWARD",
        http.get("/config/conf-cfg-value?defaultToGlobal=true")
            .assertOk()
            .json()
            .get("compatibilityLevel")
            .asText());
    http.put("/config/conf-cfg-value", "{\"compatibility\":\"NONE\"}").assertOk();
    JsonNode subjectLevel = http.get("/config/conf-cfg-value").assertOk().json();
    assertEquals(Set.of("compatibilityLevel"), fieldNames(subjectLevel));
    assertEquals("NONE", subjectLevel.get("compatibilityLevel").asText());
    // NONE lets an otherwise incompatible schema in.
    register("conf-cfg-value", V1);
    register("conf-cfg-value", V2_NO_DEFAULT);
    assertEquals(
        "NONE",
        http.delete("/config/conf-cfg-value").assertOk().json().get("compatibilityLevel").asText());
    http.get("/config/conf-cfg-value").assertError(404, 40408);
    http.delete("/config/conf-cfg-value").assertError(404, 40408);

    for (String bad : List.of("{\"compatibility\":\"SIDEWAYS\"}", "{}", "{\"compatibility\":3}")) {
      http.put("/config", bad).assertError(422, 42203);
      http.put("/config/conf-cfg-value", bad).assertError(422, 42203);
    }
  }

  // ------------------------------------------------------------------------------------------------- deletes

  @Test
  void softThenPermanentSubjectDelete() {
    int id1 = register("conf-del-value", V1);
    register("conf-del-value", V2_DEFAULTED);
    http.delete("/subjects/conf-del-value?permanent=true").assertError(404, 40405);

    assertEquals(List.of(1, 2), ints(http.delete("/subjects/conf-del-value").assertOk().json()));
    assertFalse(strings(http.get("/subjects").json()).contains("conf-del-value"));
    assertTrue(strings(http.get("/subjects?deleted=true").json()).contains("conf-del-value"));
    http.get("/subjects/conf-del-value/versions").assertError(404, 40401);
    assertEquals(
        List.of(1, 2),
        ints(http.get("/subjects/conf-del-value/versions?deleted=true").assertOk().json()));
    assertEquals(
        id1,
        http.get("/subjects/conf-del-value/versions/1?deleted=true")
            .assertOk()
            .json()
            .get("id")
            .asInt());
    http.get("/schemas/ids/" + id1)
        .assertOk(); // soft-deleted schemas still resolve by id (old records)
    http.post("/subjects/conf-del-value", schemaBody(V1)).assertError(404, 40401);
    assertEquals(
        1,
        http.post("/subjects/conf-del-value?deleted=true", schemaBody(V1))
            .assertOk()
            .json()
            .get("version")
            .asInt());
    http.delete("/subjects/conf-del-value").assertError(404, 40404);

    assertEquals(
        List.of(1, 2),
        ints(http.delete("/subjects/conf-del-value?permanent=true").assertOk().json()));
    assertFalse(strings(http.get("/subjects?deleted=true").json()).contains("conf-del-value"));
    http.delete("/subjects/conf-del-value?permanent=true").assertError(404, 40401);
  }

  @Test
  void registeringAfterASoftDeleteContinuesTheVersionNumbers() {
    int id = register("conf-redo-value", V1);
    http.delete("/subjects/conf-redo-value").assertOk();
    assertEquals(id, register("conf-redo-value", V1), "same schema, same id");
    assertEquals(List.of(2), ints(http.get("/subjects/conf-redo-value/versions").json()));
  }

  @Test
  void versionDeletes() {
    register("conf-vdel-value", V1);
    register("conf-vdel-value", V2_DEFAULTED);
    http.delete("/subjects/conf-vdel-value/versions/1?permanent=true").assertError(404, 40407);
    assertEquals(1, http.delete("/subjects/conf-vdel-value/versions/1").assertOk().json().asInt());
    http.delete("/subjects/conf-vdel-value/versions/1").assertError(404, 40406);
    http.get("/subjects/conf-vdel-value/versions/1").assertError(404, 40402);
    assertEquals(List.of(2), ints(http.get("/subjects/conf-vdel-value/versions").json()));
    assertEquals(
        List.of(1, 2), ints(http.get("/subjects/conf-vdel-value/versions?deleted=true").json()));
    assertEquals(
        1,
        http.delete("/subjects/conf-vdel-value/versions/1?permanent=true")
            .assertOk()
            .json()
            .asInt());
    assertEquals(
        List.of(2), ints(http.get("/subjects/conf-vdel-value/versions?deleted=true").json()));
    assertEquals(
        2, http.delete("/subjects/conf-vdel-value/versions/latest").assertOk().json().asInt());
    http.get("/subjects/conf-vdel-value/versions").assertError(404, 40401);
  }

  @Test
  void permanentlyDeletedSchemasLeaveTheirIdsUnused() {
    String only = record("Lonely", "{\"name\":\"x\",\"type\":\"long\"}");
    int id = register("conf-gone-value", only);
    http.delete("/subjects/conf-gone-value").assertOk();
    http.delete("/subjects/conf-gone-value?permanent=true").assertOk();
    http.get("/schemas/ids/" + id).assertError(404, 40403);
    int next = register("conf-gone-value", only);
    assertNotEquals(id, next, "an id is never handed out twice");
    assertEquals(
        List.of(1),
        ints(http.get("/subjects/conf-gone-value/versions").json()),
        "after a permanent delete the subject starts again at version 1");
  }

  @Test
  void invalidSubjectNamesAreRefused() {
    http.post("/subjects/" + enc("bad\u0001subject") + "/versions", schemaBody(V1))
        .assertError(422, 42208);
  }
}
