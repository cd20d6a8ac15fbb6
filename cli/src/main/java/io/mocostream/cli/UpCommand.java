package io.mocostream.cli;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = {
      "Start a Kafka broker and a schema registry on loopback.",
      "A real single-node KRaft broker and a Confluent-compatible registry; data kept between runs; Ctrl-C stops both."
    })
final class UpCommand implements Callable<Integer> {
  @Option(
      names = "--data-dir",
      defaultValue = "data",
      description = "Broker data, kept between runs (default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(
      names = "--port",
      defaultValue = "9092",
      description = "Broker port (default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--controller-port",
      defaultValue = "9093",
      description = "KRaft controller port (default ${DEFAULT-VALUE}).")
  int controllerPort;

  @Option(
      names = "--registry-port",
      defaultValue = "8081",
      description = "Schema registry port (default ${DEFAULT-VALUE}).")
  int registryPort;

  @Option(
      names = "--secure",
      paramLabel = "DIR",
      description = {
        "Secured: SASL_SSL (SCRAM-SHA-512) with ACLs; principals producer, ingest, trainer, subscriber, embedder, admin.",
        "DIR gets the trust store and one client properties file per principal (use with --client-config);",
        "the registry stays on loopback HTTP and asks for basic auth (the credential is in each file)."
      })
  Path secureDir;

  @Override
  public Integer call() throws Exception {
    if (secureDir != null) {
      return secure();
    }
    EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.toAbsolutePath(), port, controllerPort);
    EmbeddedSchemaRegistry registry;
    try {
      registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), registryPort);
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("stopping registry and broker ...");
                  registry.close();
                  kafka.close();
                  System.out.println("stopped; data kept in " + kafka.dataDir());
                  stopped.countDown();
                },
                "mocostream-up-shutdown"));
    System.out.println("kafka:    " + kafka.bootstrapServers());
    System.out.println("registry: " + registry.url());
    System.out.println("data:     " + kafka.dataDir());
    System.out.println("Ctrl-C to stop.");
    stopped.await();
    return 0;
  }

  private int secure() throws InterruptedException {
    SecureCluster cluster =
        SecureCluster.start(
            dataDir.toAbsolutePath(), secureDir, port, controllerPort, registryPort);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("stopping registry and broker ...");
                  cluster.close();
                  System.out.println(
                      "stopped; data kept in "
                          + cluster.kafka.dataDir()
                          + ", credentials in "
                          + cluster.dir);
                  stopped.countDown();
                },
                "mocostream-up-shutdown"));
    System.out.println(
        "kafka:    " + cluster.kafka.bootstrapServers() + " (SASL_SSL, SCRAM-SHA-512, ACLs)");
    System.out.println("registry: " + cluster.registry.url() + " (basic auth)");
    System.out.println("data:     " + cluster.kafka.dataDir());
    for (String p : SecureCluster.PRINCIPALS) {
      System.out.println(
          "client:   --client-config " + cluster.clientConfig(p) + "   (User:" + p + ")");
    }
    System.out.println("Ctrl-C to stop.");
    stopped.await();
    return 0;
  }
}
