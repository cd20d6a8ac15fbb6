package io.mocostream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mocostream.encoder.client.RefusedVersion;
import io.mocostream.encoder.client.StartPosition;
import io.mocostream.encoder.client.VerifiedVersion;
import io.mocostream.encoder.client.VersionListener;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.OffsetRange;
import java.io.PrintStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "versions",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "List a model's versions on the model topic, oldest first: version, step, created, kNN, loss,",
      "images/s, bytes, sha256 prefix, key id, and the frame offsets each was trained on.",
      "Each version is verified as every reader verifies it: Ed25519 signature by a trusted key,",
      "SHA-256 of the weights, all chunks present, versions increasing.",
      "Records that fail are LISTED as REFUSED, one line each with the reason and the offset;",
      "nothing they claim (step, kNN, ...) appears in the table. The last line counts both.",
      "Exit code 0 once the topic is read to its end, refusals or not."
    })
final class VersionsCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "NAME",
      description = "The model to list.")
  String model;

  @Mixin ModelSource source;

  @Option(names = "--json", description = "One JSON document instead of the table (for scripts).")
  boolean json;

  @Option(
      names = "--timeout-s",
      paramLabel = "S",
      defaultValue = "30",
      description =
          "Give up when the broker or registry does not answer, or the topic is not read to its end, "
              + "within S seconds (default ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  /**
   * A verified version, as listed; built from the manifest only after the subscriber accepted it.
   */
  record Version(
      long version,
      Long parentVersion,
      long step,
      String createdAt,
      Double knnTop1,
      Double loss,
      Double imagesPerSecond,
      long payloadBytes,
      String sha256,
      String keyId,
      String runId,
      List<Range> trainedOn,
      String stepLogTopic,
      long firstStep,
      long lastStep,
      int partition,
      long offset) {}

  /** Frames [from, to) of one topic-partition that trained a version. */
  record Range(String topic, int partition, long fromOffset, long toOffset) {}

  /**
   * A refused record or version: only the reason and where it is, never what it claims as a fact.
   */
  record Refusal(
      RefusedVersion.Reason reason,
      long claimedVersion,
      String message,
      int partition,
      long offset) {}

  /** What {@code --json} prints. */
  record Listing(
      String model,
      String topic,
      List<Version> versions,
      List<Refusal> refused,
      Map<RefusedVersion.Reason, Long> refusedByReason,
      long pendingChunkBytes) {}

  @Override
  public Integer call() {
    if (timeoutSeconds <= 0) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--timeout-s must be > 0, got " + timeoutSeconds);
    }
    Listing listing = list();
    PrintStream out = System.out;
    if (json) {
      out.println(toJson(listing));
    } else {
      printTable(listing, out);
    }
    out.flush();
    return ExitCode.OK.code;
  }

  Listing list() {
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    TrustedKeys trust = TrustedKeys.load(source.trust);
    requireTopic(timeout);
    List<Version> versions = new ArrayList<>();
    List<Refusal> refused = new ArrayList<>();
    VersionListener collect =
        new VersionListener() {
          @Override
          public void onAccepted(VerifiedVersion v) {
            versions.add(row(v));
          }

          @Override
          public void onRefused(RefusedVersion r) {
            refused.add(
                new Refusal(r.reason(), r.version(), r.message(), r.partition(), r.offset()));
          }
        };
    try (VersionSubscriber s =
        VersionSubscriber.builder(cluster.bootstrap, cluster.registry, model)
            .topic(source.topic)
            .trustedKeys(trust)
            .consumerConfig(cluster.clients().consumer(Map.of()))
            .startPosition(StartPosition.EARLIEST)
            .startTimeout(timeout)
            .listener(collect)
            .build()) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!s.caughtUp()) {
        if (System.nanoTime() > deadline) {
          VersionSubscriber.Stats st = s.stats();
          if (st.registryPauses() > 0) {
            throw new ExitCode.CannotConnectException(
                "schema registry "
                    + cluster.registry
                    + " did not answer while"
                    + " reading "
                    + source.topic
                    + " ("
                    + st.registryPauses()
                    + " retries in "
                    + timeoutSeconds
                    + " s)",
                null);
          }
          throw new ExitCode.CannotConnectException(
              "could not read "
                  + source.topic
                  + " at "
                  + cluster.bootstrap
                  + " to its end within "
                  + timeoutSeconds
                  + " s ("
                  + st.recordsRead()
                  + " records read)",
              null);
        }
        s.poll(Duration.ofMillis(200));
      }
      VersionSubscriber.Stats st = s.stats();
      Map<RefusedVersion.Reason, Long> byReason = new EnumMap<>(RefusedVersion.Reason.class);
      st.refusedByReason()
          .forEach(
              (reason, n) -> {
                if (n > 0) {
                  byReason.put(reason, n);
                }
              });
      return new Listing(model, source.topic, versions, refused, byReason, st.pendingBytes());
    }
  }

  /**
   * A missing topic is an answer (no versions), not a wait; an unreachable broker fails within the
   * timeout.
   */
  private void requireTopic(Duration timeout) {
    Map<String, Object> config =
        cluster
            .clients()
            .admin(
                Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                        (int) Math.min(timeout.toMillis(), 30_000)));
    try (Admin admin = Admin.create(config)) {
      admin
          .describeTopics(List.of(source.topic))
          .allTopicNames()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        throw new ExitCode.RefusedInputException(
            "model topic "
                + source.topic
                + " does not exist at "
                + cluster.bootstrap
                + ": no versions of "
                + model
                + " (is --topic right?)");
      }
      if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
        throw new ExitCode.CannotConnectException(
            "broker " + cluster.bootstrap + " did not answer within " + timeoutSeconds + " s",
            e.getCause());
      }
      String denied = cluster.clients().denied(e.getCause(), "DESCRIBE", "topic " + source.topic);
      throw new IllegalStateException(
          denied != null
              ? denied
              : "cannot describe "
                  + source.topic
                  + " at "
                  + cluster.bootstrap
                  + ": "
                  + e.getCause().getMessage(),
          e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new ExitCode.CannotConnectException(
          "broker " + cluster.bootstrap + " did not answer within " + timeoutSeconds + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static Version row(VerifiedVersion v) {
    EncoderVersion m = v.manifest();
    List<Range> ranges = m.getLineage().getRanges().stream().map(VersionsCommand::range).toList();
    var metrics = m.getMetrics();
    return new Version(
        m.getVersion(),
        m.getParentVersion(),
        m.getStep(),
        m.getCreatedAt().truncatedTo(ChronoUnit.SECONDS).toString(),
        metrics == null ? null : metrics.getKnnTop1(),
        metrics == null ? null : metrics.getLoss(),
        metrics == null ? null : metrics.getImagesPerSecond(),
        m.getPayloadBytes(),
        m.getPayloadSha256(),
        m.getKeyId(),
        m.getRunId(),
        ranges,
        m.getLineage().getStepLogTopic(),
        m.getLineage().getFirstStep(),
        m.getLineage().getLastStep(),
        v.partition(),
        v.offset());
  }

  private static Range range(OffsetRange r) {
    return new Range(r.getTopic(), r.getPartition(), r.getFromOffset(), r.getToOffset());
  }

  static String toJson(Listing listing) {
    ObjectMapper mapper = new ObjectMapper();
    try {
      return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(listing);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot write the listing as JSON: " + e.getMessage(), e);
    }
  }

  static final List<String> HEADER =
      List.of(
          "VERSION",
          "STEP",
          "CREATED (UTC)",
          "KNN",
          "LOSS",
          "IMG/S",
          "BYTES",
          "SHA256",
          "KEY",
          "TRAINED ON (topic[partition:from-to])");

  static void printTable(Listing listing, PrintStream out) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(HEADER);
    for (Version v : listing.versions()) {
      rows.add(
          List.of(
              String.valueOf(v.version()),
              String.valueOf(v.step()),
              v.createdAt().replace('T', ' ').replace("Z", ""),
              number(v.knnTop1(), "%.4f"),
              number(v.loss(), "%.3f"),
              number(v.imagesPerSecond(), "%.1f"),
              String.valueOf(v.payloadBytes()),
              prefix(v.sha256(), 12),
              prefix(v.keyId(), 16),
              trainedOn(v.trainedOn())));
    }
    int[] width = new int[HEADER.size()];
    for (List<String> r : rows) {
      for (int i = 0; i < r.size(); i++) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    for (List<String> r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        String cell = r.get(i);
        boolean last = i == r.size() - 1;
        line.append(last ? cell : String.format(Locale.ROOT, "%-" + width[i] + "s  ", cell));
      }
      out.println(line.toString().stripTrailing());
    }
    for (Refusal r : listing.refused()) {
      // The reason and the place are facts; the message quotes what the record claimed, so it is
      // marked as such.
      out.println(
          "REFUSED "
              + r.reason()
              + " at "
              + Untrusted.text(listing.topic(), 256)
              + "-"
              + r.partition()
              + "@"
              + r.offset()
              + ": "
              + Untrusted.text(r.message(), 512));
    }
    String reasons =
        listing.refusedByReason().entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(", "));
    out.println(
        "model "
            + Untrusted.text(listing.model(), 256)
            + " on "
            + Untrusted.text(listing.topic(), 256)
            + ": "
            + listing.versions().size()
            + " verified version(s), "
            + listing.refused().size()
            + " refused"
            + (reasons.isEmpty() ? "" : " (" + reasons + ")")
            + (listing.pendingChunkBytes() > 0
                ? ", "
                    + listing.pendingChunkBytes()
                    + " bytes of chunks with no manifest (never a version)"
                : ""));
  }

  /**
   * The first {@code n} characters, escaped (signed by a trusted key, but still text from a topic).
   */
  private static String prefix(String s, int n) {
    return Untrusted.text(s.length() > n ? s.substring(0, n) : s, n);
  }

  private static String number(Double d, String format) {
    return d == null ? "-" : String.format(Locale.ROOT, format, d);
  }

  /** {@code frames.train[0:0-6400,1:0-6300]}: per topic, each partition's [from, to). */
  static String trainedOn(List<Range> ranges) {
    if (ranges.isEmpty()) {
      return "-";
    }
    Map<String, List<String>> byTopic = new LinkedHashMap<>();
    for (Range r : ranges) {
      byTopic
          .computeIfAbsent(Untrusted.text(r.topic(), 256), t -> new ArrayList<>())
          .add(r.partition() + ":" + r.fromOffset() + "-" + r.toOffset());
    }
    return byTopic.entrySet().stream()
        .map(e -> e.getKey() + "[" + String.join(",", e.getValue()) + "]")
        .collect(Collectors.joining(" "));
  }
}
