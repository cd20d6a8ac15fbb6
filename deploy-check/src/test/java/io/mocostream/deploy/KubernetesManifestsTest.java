package io.mocostream.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mocostream.cli.MocoStream;
import io.mocostream.deploy.Manifests.Resource;
import io.mocostream.trainer.stream.TrainerConfig;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Every manifest under k8s/ (the base and each overlay, rendered) parses strictly against the
 * Kubernetes and Strimzi models, and the pieces fit together: selectors, Secret and ConfigMap names
 * and keys, KafkaUsers and their ACLs, KafkaTopics for every topic a command uses, probes, thread
 * counts, images.
 */
class KubernetesManifestsTest {
  static final String KAFKA_USER_MOUNT = "/etc/mocostream/kafka-user";
  static final String SIGNING_SECRET = "mocostream-signing-key";

  /** Commands that run PyTorch and so need their thread count from the CPU limit. */
  static final Set<String> DJL_COMMANDS = Set.of("train", "serve", "ingest", "embed-stream");

  // ---- strict parsing ----

  @ParameterizedTest
  @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
  void everyDocumentParsesStrictlyAgainstItsModel(String dir) {
    List<Resource> all = Manifests.render(dir);
    Set<String> kinds = new TreeSet<>();
    all.forEach(r -> kinds.add(r.kind()));
    assertEquals(
        new TreeSet<>(
            List.of(
                "ConfigMap",
                "Deployment",
                "Kafka",
                "KafkaNodePool",
                "KafkaTopic",
                "KafkaUser",
                "Service",
                "StatefulSet")),
        kinds,
        dir);
    Set<String> names = new HashSet<>();
    for (Resource r : all) {
      assertTrue(names.add(r.kind() + "/" + r.name()), "duplicate " + r);
    }
  }

  @Test
  void theStrictParseRejectsWhatAClusterWouldRejectOrIgnore() throws IOException {
    // A misspelt field lands in the model's catch-all map: the check must still see it.
    JsonNode typo =
        Manifests.YAML.readTree(
            """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: x}
        spec: {replica: 2, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}}}
        """);
    AssertionError e =
        assertThrows(AssertionError.class, () -> Manifests.parseStrictly(typo, "typo"));
    assertTrue(e.getMessage().contains(".spec.replica"), e.getMessage());
    JsonNode badEnum =
        Manifests.YAML.readTree(
            """
        apiVersion: kafka.strimzi.io/v1
        kind: KafkaUser
        metadata: {name: u}
        spec: {authentication: {type: scram-sha-512}, authorization: {type: simple, acls: [
          {resource: {type: topic, name: t, patternType: literal}, operations: [Wrte]}]}}
        """);
    assertThrows(AssertionError.class, () -> Manifests.parseStrictly(badEnum, "enum"));
    JsonNode strimziTypo =
        Manifests.YAML.readTree(
            """
        apiVersion: kafka.strimzi.io/v1
        kind: KafkaTopic
        metadata: {name: t}
        spec: {partitions: 1, replica: 3}
        """);
    assertThrows(AssertionError.class, () -> Manifests.parseStrictly(strimziTypo, "strimzi typo"));
    JsonNode unknownKind =
        Manifests.YAML.readTree("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
    assertThrows(AssertionError.class, () -> Manifests.parseStrictly(unknownKind, "kind"));
  }

  // ---- cross-references ----

  @ParameterizedTest
  @ValueSource(strings = {"base", "overlays/cpu", "overlays/gpu"})
  void crossReferencesResolve(String dir) throws IOException {
    Cluster c = new Cluster(Manifests.render(dir));
    List<String> problems = new ArrayList<>();
    c.checkSelectorsAndServices(problems);
    c.checkSecretsAndConfigMaps(problems);
    c.checkStrimziWiring(problems);
    c.checkTopicsAndAcls(problems);
    c.checkProbesThreadsAndImages(problems);
    c.checkSigningKey(problems);
    assertEquals(List.of(), problems, dir);
  }

  @Test
  void theCrossReferenceChecksFindBrokenReferences() throws IOException {
    // Each mutation of the real base must be reported: the checks are not vacuous.
    Map<String, java.util.function.Consumer<List<Resource>>> breakages = new LinkedHashMap<>();
    breakages.put(
        "selector",
        rs ->
            ((com.fasterxml.jackson.databind.node.ObjectNode)
                    find(rs, "Service", "mocostream-serve").tree().path("spec").path("selector"))
                .put("app", "nothing"));
    breakages.put(
        "Secret",
        rs ->
            ((com.fasterxml.jackson.databind.node.ObjectNode)
                    pod(find(rs, "StatefulSet", "mocostream-trainer"))
                        .path("volumes")
                        .get(1)
                        .path("secret"))
                .put("secretName", "mocostream-trainr"));
    breakages.put(
        "topic",
        rs -> rs.removeIf(r -> r.kind().equals("KafkaTopic") && r.name().equals("trainer.state")));
    breakages.put(
        "acl",
        rs ->
            ((com.fasterxml.jackson.databind.node.ArrayNode)
                    find(rs, "KafkaUser", "mocostream-producer")
                        .tree()
                        .path("spec")
                        .path("authorization")
                        .path("acls"))
                .add(
                    Manifests.YAML.valueToTree(
                        Map.of(
                            "resource",
                            Map.of("type", "topic", "name", "encoder.", "patternType", "prefix"),
                            "operations",
                            List.of("Write")))));
    breakages.put(
        "probe",
        rs ->
            ((com.fasterxml.jackson.databind.node.ObjectNode)
                    pod(find(rs, "Deployment", "mocostream-ingest")).path("containers").get(0))
                .remove("livenessProbe"));
    for (var b : breakages.entrySet()) {
      List<Resource> rs = new ArrayList<>(Manifests.render("base"));
      b.getValue().accept(rs);
      Cluster c = new Cluster(rs);
      List<String> problems = new ArrayList<>();
      c.checkSelectorsAndServices(problems);
      c.checkSecretsAndConfigMaps(problems);
      c.checkTopicsAndAcls(problems);
      c.checkProbesThreadsAndImages(problems);
      assertFalse(problems.isEmpty(), "breaking the " + b.getKey() + " went unnoticed");
    }
  }

  // ---- overlays ----

  @Test
  void theGpuOverlayPutsOnlyTheTrainerOnAGpuNode() {
    JsonNode trainer =
        pod(find(Manifests.render("overlays/gpu"), "StatefulSet", "mocostream-trainer"));
    JsonNode c = trainer.path("containers").get(0);
    assertEquals("true", trainer.path("nodeSelector").path("nvidia.com/gpu.present").asText());
    assertEquals("1", c.path("resources").path("limits").path("nvidia.com/gpu").asText());
    assertTrue(args(c).containsAll(List.of("--device", "gpu")), args(c).toString());
    assertTrue(c.path("image").asText().endsWith("-gpu"), c.path("image").asText());
    // the patch merged into the base container instead of replacing it
    assertTrue(c.path("volumeMounts").size() >= 5, c.path("volumeMounts").toString());
    assertTrue(c.path("env").size() >= 1, c.path("env").toString());
    for (Resource r : Manifests.render("overlays/gpu")) {
      if (!r.name().equals("mocostream-trainer") && r.tree().path("spec").has("template")) {
        assertFalse(pod(r).toString().contains("nvidia.com/gpu"), r + " asks for a GPU");
      }
    }
    JsonNode cpu =
        pod(find(Manifests.render("overlays/cpu"), "StatefulSet", "mocostream-trainer"))
            .path("containers")
            .get(0);
    assertTrue(args(cpu).containsAll(List.of("--device", "cpu")), args(cpu).toString());
    assertFalse(cpu.toString().contains("nvidia.com/gpu"));
  }

  // ---- what the manifests feed to the programs ----

  @Test
  void theClientPropertiesResolveThroughKafkasOwnConfig(@TempDir Path userSecret)
      throws IOException {
    JsonNode cm = find(Manifests.render("base"), "ConfigMap", "mocostream-kafka-client").tree();
    Properties p = new Properties();
    p.load(new StringReader(cm.path("data").path("client.properties").asText()));
    // What Strimzi's user operator writes into the user's Secret, mounted where the properties look
    // for it.
    String jaas =
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";";
    Files.writeString(userSecret.resolve("sasl.jaas.config"), jaas);
    Map<String, Object> conf = new HashMap<>();
    p.forEach(
        (k, v) ->
            conf.put((String) k, ((String) v).replace(KAFKA_USER_MOUNT, userSecret.toString())));
    conf.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "kafka-kafka-bootstrap:9093");
    conf.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    conf.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    ProducerConfig resolved = new ProducerConfig(conf);
    assertEquals(jaas, resolved.getPassword(SaslConfigs.SASL_JAAS_CONFIG).value());
    assertEquals("SASL_SSL", resolved.getString("security.protocol"));
    assertEquals("SCRAM-SHA-512", resolved.getString(SaslConfigs.SASL_MECHANISM));
    for (String key : p.stringPropertyNames()) {
      assertTrue(
          key.startsWith("config.providers") || ProducerConfig.configNames().contains(key),
          "not a Kafka client setting: " + key);
    }
  }

  @Test
  void theArgumentsParseWithTheRealCommandLine() {
    for (String dir : List.of("base", "overlays/gpu")) {
      for (Resource r : Manifests.render(dir)) {
        for (JsonNode c : containers(r)) {
          if (!isMocostream(c)) {
            continue;
          }
          List<String> a = args(c);
          CommandLine cli = new CommandLine(new MocoStream());
          if (!cli.getSubcommands().containsKey(a.get(0))) {
            // A command of the pipeline that this build does not have yet (ingest comes with its
            // own module).
            assertEquals("ingest", a.get(0), r + " runs an unknown command");
            continue;
          }
          cli.parseArgs(a.toArray(String[]::new)); // throws on an unknown option or a bad value
        }
      }
    }
  }

  // ---- metrics and the Grafana dashboard ----

  /**
   * The dashboard ConfigMap carries docker-compose's dashboard, unchanged
   * (k8s/dashboard-configmap.py writes it).
   */
  @Test
  void theGrafanaDashboardConfigMapIsTheComposeDashboard() throws IOException {
    Path composeCopy = Manifests.ROOT.resolve("docker/grafana/dashboards/mocostream.json");
    JsonNode expected = Manifests.YAML.readTree(Files.readString(composeCopy));
    for (String dir : List.of("base", "overlays/cpu", "overlays/gpu")) {
      Resource map = find(Manifests.render(dir), "ConfigMap", "mocostream-grafana-dashboard");
      assertEquals(
          "1",
          map.tree().path("metadata").path("labels").path("grafana_dashboard").asText(),
          "the Grafana sidecar's label");
      JsonNode dashboard =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(map.tree().path("data").path("mocostream.json").asText());
      assertEquals(
          expected,
          dashboard,
          dir
              + ": the ConfigMap's dashboard differs from "
              + composeCopy
              + "; run python3 k8s/dashboard-configmap.py");
    }
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : expected.path("panels")) {
      assertTrue(ids.add(panel.path("id").asInt()), "duplicate panel id " + panel.path("id"));
      for (JsonNode t : panel.path("targets")) {
        assertEquals(
            "${datasource}",
            t.path("datasource").path("uid").asText(),
            panel.path("title").asText());
      }
    }
  }

  /**
   * Each pod that asks to be scraped serves metrics on the port it names: a container port, and for
   * the pipeline commands the {@code --metrics-port} they are started with; their HTTP probes use a
   * port they have.
   */
  @Test
  void scrapedPodsServeMetricsWhereTheirAnnotationsSay() {
    for (String dir : List.of("base", "overlays/gpu")) {
      List<String> problems = new ArrayList<>();
      for (Resource w : Manifests.render(dir)) {
        JsonNode annotations =
            w.tree().path("spec").path("template").path("metadata").path("annotations");
        if (!annotations.path("prometheus.io/scrape").asText().equals("true")) {
          continue;
        }
        int port = annotations.path("prometheus.io/port").asInt(-1);
        if (!hasPort(pod(w), new com.fasterxml.jackson.databind.node.IntNode(port))) {
          problems.add(w + ": prometheus.io/port " + port + " is no container port");
        }
        for (JsonNode c : containers(w)) {
          List<String> a = args(c);
          int i = a.indexOf("--metrics-port");
          boolean servicePort = a.get(0).equals("serve") && a.contains(String.valueOf(port));
          if (isMocostream(c)
              && !servicePort
              && (i < 0 || !a.get(i + 1).equals(String.valueOf(port)))) {
            problems.add(w + ": scraped on " + port + " but runs " + a);
          }
        }
      }
      for (String workload :
          List.of(
              "mocostream-ingest", "mocostream-trainer", "mocostream-upload", "mocostream-serve")) {
        if (Manifests.render(dir).stream()
            .noneMatch(
                r ->
                    r.name().equals(workload)
                        && !r.kind().equals("Service")
                        && r.tree()
                            .path("spec")
                            .path("template")
                            .path("metadata")
                            .path("annotations")
                            .path("prometheus.io/scrape")
                            .asText()
                            .equals("true"))) {
          problems.add(dir + ": " + workload + " is not scraped");
        }
      }
      assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
  }

  @Test
  void theDocumentedKeyCommandsMakeAKeyPairTheTrainerLoads(@TempDir Path dir) throws Exception {
    List<String> commands = documentedCommands("openssl ");
    assertEquals(2, commands.size(), "k8s/README.md documents openssl genpkey + pkey: " + commands);
    for (String cmd : commands) {
      Process p =
          new ProcessBuilder("sh", "-c", cmd)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes());
      org.junit.jupiter.api.Assumptions.assumeFalse(
          p.waitFor() == 127, "no openssl on this machine: " + out);
      assertEquals(0, p.exitValue(), cmd + ": " + out);
    }
    var signer =
        io.mocostream.encoder.format.ModelSigning.load(
            dir.resolve("model-signing.key"), dir.resolve("model-signing.pub"));
    assertTrue(signer != null);
  }

  // ---- the checks ----

  /** The rendered manifests, indexed for the checks. */
  static final class Cluster {
    final List<Resource> all;
    final Map<String, Set<String>> configMapKeys = new HashMap<>();
    final Map<String, Set<String>> secretKeys = new HashMap<>();
    final Map<String, List<JsonNode>> aclsByUser = new HashMap<>();
    final Map<String, JsonNode> topics = new HashMap<>();
    final List<Resource> workloads = new ArrayList<>();
    String kafka;

    Cluster(List<Resource> all) throws IOException {
      this.all = all;
      for (Resource r : all) {
        switch (r.kind()) {
          case "ConfigMap" -> configMapKeys.put(r.name(), fieldNames(r.tree().path("data")));
          case "Kafka" -> {
            kafka = r.name();
            secretKeys.put(kafka + "-cluster-ca-cert", Set.of("ca.crt", "ca.p12", "ca.password"));
          }
          case "KafkaUser" -> {
            secretKeys.put(r.name(), Set.of("password", "sasl.jaas.config"));
            List<JsonNode> acls = new ArrayList<>();
            r.tree().path("spec").path("authorization").path("acls").forEach(acls::add);
            aclsByUser.put(r.name(), acls);
          }
          case "KafkaTopic" ->
              topics.put(r.tree().path("spec").path("topicName").asText(r.name()), r.tree());
          case "Deployment", "StatefulSet" -> workloads.add(r);
          default -> {}
        }
      }
      // Secrets created by hand, as k8s/README.md documents them.
      Pattern create =
          Pattern.compile("kubectl create secret generic (\\S+)((?:\\s+--from-file=\\S+)+)");
      for (String cmd : documentedCommands("kubectl create secret generic ")) {
        Matcher m = create.matcher(cmd);
        assertTrue(m.find(), cmd);
        Set<String> keys = new HashSet<>();
        for (String f : m.group(2).trim().split("\\s+")) {
          String v = f.substring("--from-file=".length());
          keys.add(
              v.contains("=")
                  ? v.substring(0, v.indexOf('='))
                  : Path.of(v).getFileName().toString());
        }
        secretKeys.put(m.group(1), keys);
      }
    }

    void checkSelectorsAndServices(List<String> problems) {
      for (Resource w : workloads) {
        JsonNode labels = w.tree().path("spec").path("template").path("metadata").path("labels");
        if (!subset(w.tree().path("spec").path("selector").path("matchLabels"), labels)) {
          problems.add(w + ": selector does not match its pod labels");
        }
        String svc = w.tree().path("spec").path("serviceName").asText("");
        if (w.kind().equals("StatefulSet")
            && all.stream()
                .noneMatch(
                    r ->
                        r.kind().equals("Service")
                            && r.name().equals(svc)
                            && r.tree().path("spec").path("clusterIP").asText().equals("None"))) {
          problems.add(w + ": serviceName '" + svc + "' is not a headless Service here");
        }
      }
      for (Resource s : all) {
        if (!s.kind().equals("Service")) {
          continue;
        }
        JsonNode selector = s.tree().path("spec").path("selector");
        List<Resource> backends =
            workloads.stream()
                .filter(
                    w ->
                        selector.size() > 0
                            && subset(
                                selector,
                                w.tree()
                                    .path("spec")
                                    .path("template")
                                    .path("metadata")
                                    .path("labels")))
                .toList();
        if (backends.isEmpty()) {
          problems.add(s + ": selector " + selector + " matches no pod");
        }
        for (JsonNode port : s.tree().path("spec").path("ports")) {
          JsonNode target = port.has("targetPort") ? port.get("targetPort") : port.get("port");
          for (Resource b : backends) {
            if (!hasPort(pod(b), target)) {
              problems.add(s + ": targetPort " + target + " is no container port of " + b);
            }
          }
        }
      }
    }

    void checkSecretsAndConfigMaps(List<String> problems) {
      for (Resource w : workloads) {
        JsonNode pod = pod(w);
        Set<String> volumes = new HashSet<>();
        for (JsonNode v : pod.path("volumes")) {
          volumes.add(v.path("name").asText());
          if (v.has("secret")) {
            checkRef(
                problems,
                w,
                "Secret",
                secretKeys,
                v.path("secret").path("secretName").asText(),
                keysOf(v.path("secret").path("items")));
          } else if (v.has("configMap")) {
            checkRef(
                problems,
                w,
                "ConfigMap",
                configMapKeys,
                v.path("configMap").path("name").asText(),
                keysOf(v.path("configMap").path("items")));
          } else if (!v.has("emptyDir")) {
            problems.add(
                w
                    + ": volume "
                    + v.path("name").asText()
                    + " is of a kind this check does not follow");
          }
        }
        w.tree()
            .path("spec")
            .path("volumeClaimTemplates")
            .forEach(t -> volumes.add(t.path("metadata").path("name").asText()));
        Set<String> mounted = new HashSet<>();
        for (JsonNode c : pod.path("containers")) {
          for (JsonNode m : c.path("volumeMounts")) {
            mounted.add(m.path("name").asText());
            if (!volumes.contains(m.path("name").asText())) {
              problems.add(w + ": mounts undeclared volume " + m.path("name").asText());
            }
          }
          for (JsonNode e : c.path("envFrom")) {
            if (e.has("configMapRef")) {
              checkRef(
                  problems,
                  w,
                  "ConfigMap",
                  configMapKeys,
                  e.path("configMapRef").path("name").asText(),
                  Set.of());
            }
            if (e.has("secretRef")) {
              checkRef(
                  problems,
                  w,
                  "Secret",
                  secretKeys,
                  e.path("secretRef").path("name").asText(),
                  Set.of());
            }
          }
          for (JsonNode e : c.path("env")) {
            JsonNode from = e.path("valueFrom");
            if (from.has("configMapKeyRef")) {
              checkRef(
                  problems,
                  w,
                  "ConfigMap",
                  configMapKeys,
                  from.path("configMapKeyRef").path("name").asText(),
                  Set.of(from.path("configMapKeyRef").path("key").asText()));
            }
            if (from.has("secretKeyRef")) {
              checkRef(
                  problems,
                  w,
                  "Secret",
                  secretKeys,
                  from.path("secretKeyRef").path("name").asText(),
                  Set.of(from.path("secretKeyRef").path("key").asText()));
            }
          }
        }
        volumes.removeAll(mounted);
        if (!volumes.isEmpty()) {
          problems.add(w + ": volumes declared but never mounted: " + volumes);
        }
      }
    }

    void checkStrimziWiring(List<String> problems) {
      for (Resource r : all) {
        if (r.kind().startsWith("Kafka")
            && !r.kind().equals("Kafka")
            && !kafka.equals(
                r.tree().path("metadata").path("labels").path("strimzi.io/cluster").asText())) {
          problems.add(r + ": label strimzi.io/cluster is not the Kafka '" + kafka + "'");
        }
      }
      JsonNode k = find(all, "Kafka", kafka).tree().path("spec").path("kafka");
      JsonNode config = find(all, "ConfigMap", "mocostream").tree().path("data");
      String bootstrap = config.path("MOCOSTREAM_BOOTSTRAP").asText();
      JsonNode listener = null;
      for (JsonNode l : k.path("listeners")) {
        if (bootstrap.equals(kafka + "-kafka-bootstrap:" + l.path("port").asInt())) {
          listener = l;
        }
      }
      if (listener == null) {
        problems.add("MOCOSTREAM_BOOTSTRAP " + bootstrap + " is no listener of Kafka " + kafka);
      } else if (!listener.path("tls").asBoolean()
          || !listener.path("authentication").path("type").asText().equals("scram-sha-512")) {
        problems.add(
            "listener "
                + listener
                + " is not TLS with SCRAM-SHA-512, as the client properties say");
      }
      if (!k.path("authorization").path("type").asText().equals("simple")) {
        problems.add(
            "Kafka " + kafka + " has no ACL authorizer: the KafkaUsers' ACLs would mean nothing");
      }
      String registry = config.path("MOCOSTREAM_REGISTRY").asText();
      Matcher m = Pattern.compile("http://([^:/]+):(\\d+)").matcher(registry);
      if (!m.matches()
          || all.stream()
              .noneMatch(
                  r ->
                      r.kind().equals("Service")
                          && r.name().equals(m.group(1))
                          && r.tree()
                              .path("spec")
                              .path("ports")
                              .toString()
                              .contains("\"port\":" + m.group(2)))) {
        problems.add("MOCOSTREAM_REGISTRY " + registry + " is no Service here");
      }
      if (!config
          .path("MOCOSTREAM_CLIENT_CONFIG")
          .asText()
          .equals("/etc/mocostream/client/client.properties")) {
        problems.add("MOCOSTREAM_CLIENT_CONFIG is not where the client ConfigMap is mounted");
      }
    }

    void checkTopicsAndAcls(List<String> problems) {
      for (Resource w : workloads) {
        for (JsonNode c : pod(w).path("containers")) {
          String user = principal(w, c);
          if (user == null) {
            problems.add(
                w + ": container " + c.path("name").asText() + " talks to Kafka as no KafkaUser");
            continue;
          }
          for (Need n : needs(w, c)) {
            if (n.type.equals("topic") && !topics.containsKey(n.name)) {
              problems.add(w + ": uses topic " + n.name + ", which is no KafkaTopic");
            }
            if (!allowed(user, n.type, n.name, n.op)) {
              problems.add(w + ": " + user + " may not " + n.op + " " + n.type + " " + n.name);
            }
          }
        }
      }
      // Only the trainer may write the model, state and step-log topics.
      TrainerConfig t = TrainerConfig.of(Map.of(TrainerConfig.MODEL_NAME_CONFIG, "any"));
      for (String own : List.of(t.versionsTopic(), t.stateTopic(), t.stepsTopic())) {
        for (String user : aclsByUser.keySet()) {
          if (!user.equals("mocostream-trainer")
              && Stream.of("Write", "Create", "Delete", "Alter", "AlterConfigs")
                  .anyMatch(op -> allowed(user, "topic", own, op))) {
            problems.add(user + " may change " + own + ": only the trainer may");
          }
        }
      }
    }

    void checkProbesThreadsAndImages(List<String> problems) {
      for (Resource w : workloads) {
        for (JsonNode c : pod(w).path("containers")) {
          String where = w + " container " + c.path("name").asText();
          if (!c.has("livenessProbe") || !(c.has("readinessProbe"))) {
            problems.add(where + ": needs a liveness and a readiness probe");
          }
          for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
            JsonNode http = c.path(probe).path("httpGet");
            if (!http.isMissingNode() && !hasPort(pod(w), http.path("port"))) {
              problems.add(
                  where + ": " + probe + " port " + http.path("port") + " is no container port");
            }
          }
          String image = c.path("image").asText();
          if (image.endsWith(":latest") || !image.contains(":") && !image.equals("mocostream")) {
            problems.add(where + ": image " + image + " is not pinned to a tag");
          }
          if (isMocostream(c) && DJL_COMMANDS.contains(args(c).get(0))) {
            JsonNode threads = null;
            for (JsonNode e : c.path("env")) {
              if (e.path("name").asText().equals("MOCOSTREAM_THREADS")) {
                threads = e;
              }
            }
            if (threads == null
                || !threads
                    .path("valueFrom")
                    .path("resourceFieldRef")
                    .path("resource")
                    .asText()
                    .equals("limits.cpu")
                || !c.path("resources").path("limits").has("cpu")) {
              problems.add(where + ": MOCOSTREAM_THREADS must come from the container's CPU limit");
            }
          }
        }
        if (!pod(w).path("securityContext").path("runAsNonRoot").asBoolean(false)
            && w.name().startsWith("mocostream")) {
          problems.add(w + ": must run as non-root");
        }
      }
    }

    void checkSigningKey(List<String> problems) {
      for (Resource w : workloads) {
        JsonNode pod = pod(w);
        for (JsonNode v : pod.path("volumes")) {
          if (!v.path("secret").path("secretName").asText().equals(SIGNING_SECRET)) {
            continue;
          }
          String mount = null;
          for (JsonNode m : pod.path("containers").get(0).path("volumeMounts")) {
            if (m.path("name").asText().equals(v.path("name").asText())) {
              mount = m.path("mountPath").asText();
            }
          }
          List<String> a = args(pod.path("containers").get(0));
          if (a.get(0).equals("train")) {
            if (!mount.equals(a.get(a.indexOf("--keys-dir") + 1))) {
              problems.add(w + ": signing key mounted at " + mount + ", --keys-dir says otherwise");
            }
          } else {
            Set<String> keys = keysOf(v.path("secret").path("items"));
            if (keys.isEmpty() || !keys.stream().allMatch(k -> k.endsWith(".pub"))) {
              problems.add(
                  w + ": may see the private signing key (project only model-signing.pub)");
            }
            if (a.contains("--trust") && !a.get(a.indexOf("--trust") + 1).startsWith(mount + "/")) {
              problems.add(w + ": --trust is not under the mounted public key " + mount);
            }
          }
        }
      }
    }

    /**
     * The KafkaUser whose Secret the container uses (mounted for the client properties, or as SASL
     * env).
     */
    String principal(Resource w, JsonNode c) {
      for (JsonNode m : c.path("volumeMounts")) {
        if (m.path("mountPath").asText().equals(KAFKA_USER_MOUNT)) {
          for (JsonNode v : pod(w).path("volumes")) {
            if (v.path("name").equals(m.path("name"))) {
              String s = v.path("secret").path("secretName").asText();
              return aclsByUser.containsKey(s) ? s : null;
            }
          }
        }
      }
      for (JsonNode e : c.path("env")) {
        JsonNode ref = e.path("valueFrom").path("secretKeyRef");
        if (e.path("name").asText().endsWith("SASL_JAAS_CONFIG")
            && aclsByUser.containsKey(ref.path("name").asText())) {
          return ref.path("name").asText();
        }
      }
      return null;
    }

    record Need(String type, String name, String op) {}

    /**
     * What a container's command reads and writes, from its arguments and the programs' own
     * defaults.
     */
    List<Need> needs(Resource w, JsonNode c) {
      List<Need> n = new ArrayList<>();
      if (!isMocostream(c)) { // the registry
        Map<String, String> env = new HashMap<>();
        c.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        String topic = env.getOrDefault("SCHEMA_REGISTRY_KAFKASTORE_TOPIC", "_schemas");
        Stream.of("Read", "Write", "Describe", "DescribeConfigs")
            .forEach(op -> n.add(new Need("topic", topic, op)));
        for (String g :
            List.of(
                "SCHEMA_REGISTRY_KAFKASTORE_GROUP_ID",
                "SCHEMA_REGISTRY_SCHEMA_REGISTRY_GROUP_ID")) {
          if (!env.containsKey(g)) {
            throw new AssertionError(w + ": set " + g + " so that its group ACL can be checked");
          }
          n.add(new Need("group", env.get(g), "Read"));
        }
        return n;
      }
      List<String> a = args(c);
      switch (a.get(0)) {
        case "produce" -> {
          n.add(new Need("topic", option(w, a, "--topic"), "Write"));
          n.add(new Need("topic", option(w, a, "--topic"), "DescribeConfigs"));
        }
        case "ingest" -> {
          n.add(new Need("topic", option(w, a, "--in"), "Read"));
          n.add(new Need("topic", option(w, a, "--out"), "Write"));
          n.add(new Need("topic", option(w, a, "--dlq"), "Write"));
          n.add(new Need("group", option(w, a, "--application-id"), "Read"));
          n.add(new Need("transactionalId", option(w, a, "--application-id"), "Write"));
        }
        case "train" -> {
          Map<String, String> s = new HashMap<>();
          s.put(TrainerConfig.MODEL_NAME_CONFIG, option(w, a, "--model"));
          s.put(TrainerConfig.FRAMES_TOPIC_CONFIG, option(w, a, "--topic"));
          for (int i = 0; i < a.size() - 1; i++) {
            if (a.get(i).equals("-D") || a.get(i).equals("--set")) {
              String[] kv = a.get(i + 1).split("=", 2);
              s.put(kv[0], kv[1]);
            }
          }
          TrainerConfig t = TrainerConfig.of(s);
          n.add(new Need("topic", t.framesTopic(), "Read"));
          for (String own : List.of(t.versionsTopic(), t.stateTopic(), t.stepsTopic())) {
            n.add(new Need("topic", own, "Read"));
            n.add(new Need("topic", own, "Write"));
            n.add(new Need("topic", own, "DescribeConfigs"));
          }
          n.add(new Need("topic", t.dlqTopic(), "Write"));
          // StreamTrainer's group and transactional id: "mocostream-trainer-" + model
          n.add(new Need("group", "mocostream-trainer-" + t.modelName(), "Read"));
          n.add(new Need("transactionalId", "mocostream-trainer-" + t.modelName(), "Write"));
        }
        case "serve", "subscribe" -> n.add(new Need("topic", option(w, a, "--topic"), "Read"));
        default -> throw new AssertionError(w + ": no topic rules for command " + a.get(0));
      }
      return n;
    }

    boolean allowed(String user, String type, String name, String op) {
      for (JsonNode acl : aclsByUser.getOrDefault(user, List.of())) {
        JsonNode r = acl.path("resource");
        if (!acl.path("type").asText("allow").equals("allow")
            || !r.path("type").asText().equals(type)) {
          continue;
        }
        String pattern = r.path("name").asText();
        boolean match =
            r.path("patternType").asText("literal").equals("prefix")
                ? name.startsWith(pattern)
                : pattern.equals(name) || pattern.equals("*");
        Set<String> ops = new HashSet<>();
        acl.path("operations").forEach(o -> ops.add(o.asText()));
        if (match && (ops.contains(op) || ops.contains("All"))) {
          return true;
        }
      }
      return false;
    }

    private static String option(Resource w, List<String> a, String name) {
      int i = a.indexOf(name);
      if (i < 0 || i == a.size() - 1) {
        throw new AssertionError(
            w
                + ": name "
                + name
                + " explicitly in the arguments "
                + a
                + " (the check does not guess defaults)");
      }
      return a.get(i + 1);
    }

    private static void checkRef(
        List<String> problems,
        Resource w,
        String kind,
        Map<String, Set<String>> known,
        String name,
        Set<String> keys) {
      if (!known.containsKey(name)) {
        problems.add(
            w
                + ": "
                + kind
                + " "
                + name
                + " is neither in the manifests, made by Strimzi, nor created by a "
                + "command in k8s/README.md");
      } else if (!known.get(name).containsAll(keys)) {
        problems.add(
            w
                + ": "
                + kind
                + " "
                + name
                + " has no key(s) "
                + keys
                + " (it has "
                + known.get(name)
                + ")");
      }
    }
  }

  // ---- helpers ----

  static Resource find(List<Resource> all, String kind, String name) {
    return all.stream()
        .filter(r -> r.kind().equals(kind) && r.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + "/" + name));
  }

  static JsonNode pod(Resource r) {
    return r.tree().path("spec").path("template").path("spec");
  }

  static List<JsonNode> containers(Resource r) {
    List<JsonNode> out = new ArrayList<>();
    pod(r).path("containers").forEach(out::add);
    return out;
  }

  static boolean isMocostream(JsonNode container) {
    String image = container.path("image").asText();
    return image.equals("mocostream") || image.matches(".*/mocostream(:.*)?");
  }

  static List<String> args(JsonNode container) {
    List<String> a = new ArrayList<>();
    container.path("args").forEach(x -> a.add(x.asText()));
    return a;
  }

  static boolean hasPort(JsonNode pod, JsonNode port) {
    for (JsonNode c : pod.path("containers")) {
      for (JsonNode p : c.path("ports")) {
        if (port.isInt()
            ? p.path("containerPort").asInt() == port.asInt()
            : p.path("name").asText().equals(port.asText())) {
          return true;
        }
      }
    }
    return false;
  }

  static boolean subset(JsonNode small, JsonNode big) {
    for (var it = small.fields(); it.hasNext(); ) {
      var f = it.next();
      if (!f.getValue().equals(big.get(f.getKey()))) {
        return false;
      }
    }
    return true;
  }

  static Set<String> fieldNames(JsonNode n) {
    Set<String> s = new HashSet<>();
    n.fieldNames().forEachRemaining(s::add);
    return s;
  }

  static Set<String> keysOf(JsonNode items) {
    Set<String> s = new HashSet<>();
    items.forEach(i -> s.add(i.path("key").asText()));
    return s;
  }

  /**
   * Shell commands in k8s/README.md's code blocks that start with {@code prefix}, continuation
   * lines joined.
   */
  static List<String> documentedCommands(String prefix) throws IOException {
    String readme = Files.readString(Manifests.K8S.resolve("README.md")).replace("\\\n", " ");
    List<String> out = new ArrayList<>();
    boolean code = false;
    for (String line : readme.split("\n")) {
      if (line.strip().startsWith("```")) {
        code = !code;
      } else if (code && line.strip().startsWith(prefix)) {
        String cmd = line.strip();
        out.add(cmd.contains(" #") ? cmd.substring(0, cmd.indexOf(" #")).strip() : cmd);
      }
    }
    return out;
  }
}
