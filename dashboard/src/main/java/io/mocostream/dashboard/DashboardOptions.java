package io.mocostream.dashboard;

import io.mocostream.registry.client.ClientSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What the dashboard follows and where it listens.
 *
 * @param bootstrap Kafka bootstrap servers
 * @param registryUrl schema registry URL
 * @param clients client settings (auth, TLS) for every Kafka and registry client
 * @param host bind address
 * @param port port (0: any free one)
 * @param stepsTopic the trainers' step log
 * @param versionsTopic the model topic
 * @param dlqTopic the dead-letter topic
 * @param framesTopic frames to sample for the newest-frames strip; null: the topic the step log
 *     names
 * @param trust trusted public keys (PEM): versions are shown only once their signature verifies
 * @param models models to follow; empty: every model the step log names (up to {@link #MAX_MODELS})
 * @param probe the labelled probe for baselines and neighbours: {@code fashion-mnist} or {@code
 *     IMAGES,LABELS} (IDX), {@code ""} for none
 * @param probeBank probe memory-bank images (as the trainer's {@code trainer.probe.bank})
 * @param probeQueries probe query images (as {@code trainer.probe.queries})
 */
public record DashboardOptions(
    String bootstrap,
    String registryUrl,
    ClientSettings clients,
    String host,
    int port,
    String stepsTopic,
    String versionsTopic,
    String dlqTopic,
    String framesTopic,
    Path trust,
    List<String> models,
    String probe,
    int probeBank,
    int probeQueries) {

  public static final int DEFAULT_PORT = 8090;
  public static final String DEFAULT_HOST = "127.0.0.1";

  /**
   * Models followed at most: each costs a subscriber and its history; a topic cannot make it follow
   * more.
   */
  public static final int MAX_MODELS = 8;

  public DashboardOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(registryUrl, "registryUrl");
    clients = clients == null ? ClientSettings.NONE : clients;
    Objects.requireNonNull(trust, "trust (the trainer's public key file)");
    models = List.copyOf(models == null ? List.of() : models);
    if (models.size() > MAX_MODELS) {
      throw new IllegalArgumentException("at most " + MAX_MODELS + " models, got " + models.size());
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not in 0..65535");
    }
    if (probeBank < 1 || probeQueries < 1) {
      throw new IllegalArgumentException(
          "probe bank and queries must be >= 1, got " + probeBank + " and " + probeQueries);
    }
    probe = probe == null ? "" : probe.trim();
  }

  /**
   * The defaults of {@code mocostream dashboard}: the trainer's default topics, the demo's probe.
   */
  public static DashboardOptions defaults(String bootstrap, String registryUrl, Path trust) {
    return new DashboardOptions(
        bootstrap,
        registryUrl,
        ClientSettings.NONE,
        DEFAULT_HOST,
        DEFAULT_PORT,
        "trainer.steps",
        "encoder.versions",
        "frames.dlq",
        null,
        trust,
        List.of(),
        "fashion-mnist",
        2000,
        500);
  }

  public DashboardOptions withListen(String newHost, int newPort) {
    return new DashboardOptions(
        bootstrap,
        registryUrl,
        clients,
        newHost,
        newPort,
        stepsTopic,
        versionsTopic,
        dlqTopic,
        framesTopic,
        trust,
        models,
        probe,
        probeBank,
        probeQueries);
  }

  public DashboardOptions withTopics(String steps, String versions, String dlq, String frames) {
    return new DashboardOptions(
        bootstrap,
        registryUrl,
        clients,
        host,
        port,
        steps,
        versions,
        dlq,
        frames,
        trust,
        models,
        probe,
        probeBank,
        probeQueries);
  }

  public DashboardOptions withModels(List<String> newModels) {
    return new DashboardOptions(
        bootstrap,
        registryUrl,
        clients,
        host,
        port,
        stepsTopic,
        versionsTopic,
        dlqTopic,
        framesTopic,
        trust,
        newModels,
        probe,
        probeBank,
        probeQueries);
  }

  public DashboardOptions withProbe(String spec, int bank, int queries) {
    return new DashboardOptions(
        bootstrap,
        registryUrl,
        clients,
        host,
        port,
        stepsTopic,
        versionsTopic,
        dlqTopic,
        framesTopic,
        trust,
        models,
        spec,
        bank,
        queries);
  }

  public DashboardOptions withClients(ClientSettings settings) {
    return new DashboardOptions(
        bootstrap,
        registryUrl,
        settings,
        host,
        port,
        stepsTopic,
        versionsTopic,
        dlqTopic,
        framesTopic,
        trust,
        models,
        probe,
        probeBank,
        probeQueries);
  }
}
