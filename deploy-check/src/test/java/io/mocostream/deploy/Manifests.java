package io.mocostream.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the k8s/ manifests the way {@code kubectl apply -k} would see them, and parses each
 * document strictly against its model.
 *
 * <p>kustomize is not available to the build, so overlays are rendered here: {@code resources},
 * {@code patches} (strategic merge with the merge keys of the Kubernetes types these manifests use)
 * and {@code images}. A kustomization field this renderer does not know fails the check instead of
 * being ignored, so the overlays stay within what is rendered faithfully.
 */
final class Manifests {
  static final Path ROOT = locateRoot();
  static final Path K8S = ROOT.resolve("k8s");

  /** The models a document may be: apiVersion/kind to the class it must parse into. */
  static final Map<String, Class<?>> MODELS =
      Map.of(
          "v1/ConfigMap", ConfigMap.class,
          "v1/Secret", Secret.class,
          "v1/Service", Service.class,
          "apps/v1/Deployment", Deployment.class,
          "apps/v1/StatefulSet", StatefulSet.class,
          "kafka.strimzi.io/v1/Kafka", Kafka.class,
          "kafka.strimzi.io/v1/KafkaNodePool", KafkaNodePool.class,
          "kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class,
          "kafka.strimzi.io/v1/KafkaUser", KafkaUser.class);

  private static final Set<String> KUSTOMIZATION_FIELDS =
      Set.of("apiVersion", "kind", "resources", "patches", "images");

  /**
   * Strategic-merge keys of the lists these manifests patch (from the Kubernetes API's
   * patchMergeKey tags).
   */
  private static final Map<String, String> MERGE_KEYS =
      Map.of(
          "containers",
          "name",
          "initContainers",
          "name",
          "volumes",
          "name",
          "env",
          "name",
          "volumeMounts",
          "mountPath",
          "ports",
          "containerPort",
          "imagePullSecrets",
          "name");

  static final ObjectMapper YAML = YAMLMapper.builder().build();

  /** Fails on unknown properties where a model has no catch-all, and on type mismatches. */
  static final ObjectMapper STRICT =
      YAMLMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
          .build();

  /**
   * Writes a model back without its catch-all maps. Both fabric8's and Strimzi's models keep
   * unknown fields in {@code additionalProperties} (so FAIL_ON_UNKNOWN_PROPERTIES alone never
   * fires): a field that went there is missing from this mapper's output, which is how {@link
   * #parseStrictly} finds it.
   */
  private static final ObjectMapper WITHOUT_CATCH_ALL =
      new ObjectMapper()
          .setAnnotationIntrospector(
              new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnyGetter(Annotated a) {
                  return Boolean.FALSE;
                }
              });

  /** One document: where it came from, its tree as rendered, and the model it parsed into. */
  record Resource(String source, JsonNode tree, Object model) {
    String kind() {
      return tree.path("kind").asText();
    }

    String name() {
      return tree.path("metadata").path("name").asText();
    }

    @Override
    public String toString() {
      return kind() + "/" + name() + " (" + source + ")";
    }
  }

  private Manifests() {}

  /**
   * Renders the kustomization in {@code dir} (relative to k8s/) and parses every document strictly.
   */
  static List<Resource> render(String dir) {
    List<Resource> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : renderTrees(K8S.resolve(dir)).entrySet()) {
      out.add(
          new Resource(
              e.getKey().substring(e.getKey().indexOf(' ') + 1),
              e.getValue(),
              parseStrictly(e.getValue(), e.getKey())));
    }
    return out;
  }

  /**
   * The model object of {@code doc}, or an AssertionError naming the document and the offending
   * path: an unknown apiVersion/kind, a field the model does not have, a value of the wrong type or
   * enum.
   */
  static Object parseStrictly(JsonNode doc, String where) {
    String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
    Class<?> model = MODELS.get(type);
    if (model == null) {
      throw new AssertionError(
          where + ": no model for " + type + " (expected one of " + MODELS.keySet() + ")");
    }
    Object parsed;
    try {
      parsed = STRICT.treeToValue(doc, model);
    } catch (IOException e) {
      throw new AssertionError(where + ": not a valid " + type + ": " + e.getMessage(), e);
    }
    List<String> unknown = new ArrayList<>();
    missingFrom(
        doc, WITHOUT_CATCH_ALL.valueToTree(parsed), STRICT.valueToTree(parsed), "", unknown);
    if (!unknown.isEmpty()) {
      throw new AssertionError(
          where + ": not part of the " + type + " model (or changed by parsing): " + unknown);
    }
    return parsed;
  }

  /**
   * Collects the paths of {@code in} that the model did not take as its own: fields found in {@code
   * full} (the model written back) but not in {@code known} (written back without the catch-all
   * map), and values read as something else. A field absent from both was taken and is left out on
   * writing because it holds the default. The top-level apiVersion is checked against {@link
   * #MODELS} instead (the custom resources write the version of their Java annotation back).
   */
  static void missingFrom(
      JsonNode in, JsonNode known, JsonNode full, String path, List<String> found) {
    if (in.isObject()) {
      if (!known.isObject()) {
        found.add(path + " (became " + known.getNodeType() + ")");
        return;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = in.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        String at = path + "." + f.getKey();
        JsonNode k = known.get(f.getKey());
        if (at.equals(".apiVersion")) {
          continue;
        }
        if (k == null || k.isNull() && !f.getValue().isNull()) {
          if (full.has(f.getKey())) {
            found.add(at);
          }
        } else {
          missingFrom(f.getValue(), k, full.path(f.getKey()), at, found);
        }
      }
    } else if (in.isArray()) {
      if (!known.isArray() || known.size() != in.size()) {
        found.add(path + " (list changed)");
        return;
      }
      for (int i = 0; i < in.size(); i++) {
        missingFrom(in.get(i), known.get(i), full.path(i), path + "[" + i + "]", found);
      }
    } else if (!in.equals(known)
        && !(in.isNumber()
            && known.isNumber()
            && in.decimalValue().compareTo(known.decimalValue()) == 0)) {
      found.add(path + " (" + in + " read as " + known + ")");
    }
  }

  /** Rendered documents keyed by "n file" (n keeps order and duplicates apart). */
  static Map<String, JsonNode> renderTrees(Path dir) {
    JsonNode k = readAll(dir.resolve("kustomization.yaml")).get(0);
    for (Iterator<String> it = k.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!KUSTOMIZATION_FIELDS.contains(f)) {
        throw new AssertionError(
            dir + "/kustomization.yaml: field '" + f + "' is not rendered by this check");
      }
    }
    Map<String, JsonNode> docs = new LinkedHashMap<>();
    for (JsonNode r : k.path("resources")) {
      Path p = dir.resolve(r.asText()).normalize();
      if (Files.isDirectory(p)) {
        renderTrees(p)
            .forEach(
                (key, v) -> docs.put(docs.size() + " " + key.substring(key.indexOf(' ') + 1), v));
      } else {
        for (JsonNode d : readAll(p)) {
          docs.put(docs.size() + " " + ROOT.relativize(p), d);
        }
      }
    }
    for (JsonNode patch : k.path("patches")) {
      if (!patch.has("path") || patch.size() != 1) {
        throw new AssertionError(
            dir + ": only 'patches: - path: FILE' (strategic merge) is rendered, got " + patch);
      }
      for (JsonNode p : readAll(dir.resolve(patch.get("path").asText()))) {
        JsonNode target =
            docs.values().stream()
                .filter(
                    d ->
                        d.path("kind").equals(p.path("kind"))
                            && d.path("metadata")
                                .path("name")
                                .equals(p.path("metadata").path("name")))
                .findFirst()
                .orElseThrow(
                    () ->
                        new AssertionError(
                            dir
                                + ": patch "
                                + patch
                                + " targets "
                                + p.path("kind").asText()
                                + "/"
                                + p.path("metadata").path("name").asText()
                                + ", which is not there"));
        merge((ObjectNode) target, p);
      }
    }
    for (JsonNode image : k.path("images")) {
      String name = image.path("name").asText();
      String to =
          image.path("newName").asText(name)
              + (image.has("newTag") ? ":" + image.get("newTag").asText() : "");
      int hits = 0;
      for (JsonNode d : docs.values()) {
        for (JsonNode c : d.path("spec").path("template").path("spec").path("containers")) {
          String img = c.path("image").asText();
          if (img.equals(name) || img.startsWith(name + ":")) {
            ((ObjectNode) c).put("image", to);
            hits++;
          }
        }
      }
      if (hits == 0) {
        throw new AssertionError(dir + ": images entry " + name + " matches no container");
      }
    }
    return docs;
  }

  /**
   * Strategic merge of {@code patch} into {@code target}: maps merge, keyed lists merge by key,
   * other lists replace.
   */
  static void merge(ObjectNode target, JsonNode patch) {
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode have = target.get(f.getKey());
      JsonNode want = f.getValue();
      if (have instanceof ObjectNode h && want.isObject()) {
        merge(h, want);
      } else if (have instanceof ArrayNode h
          && want.isArray()
          && MERGE_KEYS.containsKey(f.getKey())) {
        String key = MERGE_KEYS.get(f.getKey());
        for (JsonNode item : want) {
          ObjectNode same = null;
          for (JsonNode e : h) {
            if (e.path(key).equals(item.path(key))) {
              same = (ObjectNode) e;
            }
          }
          if (same != null) {
            merge(same, item);
          } else {
            h.add(item.deepCopy());
          }
        }
      } else {
        target.set(f.getKey(), want.deepCopy());
      }
    }
  }

  static List<JsonNode> readAll(Path file) {
    try (JsonParser p = new YAMLFactory().createParser(file.toFile());
        MappingIterator<JsonNode> it = YAML.readValues(p, JsonNode.class)) {
      List<JsonNode> docs = new ArrayList<>();
      while (it.hasNext()) {
        JsonNode d = it.next();
        if (d != null && !d.isNull() && !d.isMissingNode()) {
          docs.add(d);
        }
      }
      return docs;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static Path locateRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("k8s"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no k8s/ directory above " + Path.of("").toAbsolutePath());
    }
    return p;
  }
}
