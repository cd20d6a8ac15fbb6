package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.schemas.TrainerStep;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Broker restart during training: the trainer waits and resumes; nothing lost, nothing trained
 * twice. Each test owns its broker (the shared one cannot be stopped) and restarts it on the same
 * data directory and ports while a {@link StreamTrainer} runs. A run is judged by its committed
 * history alone: every consumed offset in exactly one committed step, versions in order, and the
 * last version rebuilt bit for bit by {@link Replayer} from the step log (an uninterrupted
 * computation over the same steps).
 */
class BrokerRestartTest {
  private static final Logger log = LoggerFactory.getLogger(BrokerRestartTest.class);
  private static final int STEPS = 16;
  private static final int PUBLISH_EVERY = 4;
  private static final int BATCH = 8;

  /** Steps' worth of frames written before training; the rest follow the last outage. */
  private static final int STEPS_BEFORE = 10;

  private static final Duration WAIT = Duration.ofSeconds(240);

  /**
   * Outages shorter than the clients' timeouts (the trainer's defaults: a minute to block, minutes
   * to deliver): the trainer waits them out. Nothing is rolled back and no step is trained twice,
   * not even in aborted transactions.
   */
  @Test
  void waitsOutRestartsShorterThanTheTimeouts(@TempDir Path dir) throws Exception {
    Outage midInterval = Outage.atStep(2, Duration.ofSeconds(1), false, "after step 2");
    Outage atCommit =
        Outage.atStep(8, Duration.ofSeconds(3), true, "as the commit of step 8 starts");
    Run run = train(dir, Map.of(), List.of(midInterval, atCommit));
    assertEquals(List.of(), run.recoveries, "roll-backs");
    assertEquals(STEPS, run.stepsSeen.size(), "steps trained (each once): " + run.stepsSeen);
  }

  /**
   * Outages longer than the (shortened) client timeouts: a commit runs into the outage, its sends,
   * its abort and a new producer's initialisation all time out, and the trainer keeps replacing its
   * producer until the broker answers; later the step log's records of an open transaction expire
   * during an outage and the transaction fails at the next send. Each time the trainer rolls back
   * to its last checkpoint and redoes the steps.
   */
  @Test
  void recoversFromRestartsLongerThanTheTimeouts(@TempDir Path dir) throws Exception {
    Map<String, Object> timeouts =
        Map.of("max.block.ms", 2_000, "delivery.timeout.ms", 2_000, "request.timeout.ms", 1_500);
    // Outlasts the commit's sends (each waits max.block.ms for metadata), the abort and a first
    // initTransactions.
    Outage atCommit =
        Outage.atStep(8, Duration.ofSeconds(16), true, "as the commit of step 8 starts");
    // Outlasts delivery.timeout.ms, with margin.
    Outage afterCommit = Outage.afterVersion(2, Duration.ofSeconds(5), "after version 2");
    Run run = train(dir, timeouts, List.of(atCommit, afterCommit));
    assertTrue(
        run.rolledBackTo.containsAll(List.of(4L, 8L)),
        "roll-backs " + run.recoveries + "; steps " + run.stepsSeen);
  }

  /** What the listener saw. */
  private record Run(List<Long> stepsSeen, List<Long> rolledBackTo, List<String> recoveries) {}

  /**
   * A broker outage that starts when the trainer reaches a step (before that step's commit, if it
   * has one) or has published a version; with {@code hold}, the training thread waits there until
   * the broker is down.
   */
  private static final class Outage {
    final long step;
    final long version;
    final Duration length;
    final boolean hold;
    final String when;
    final CountDownLatch reached = new CountDownLatch(1);
    final CountDownLatch down = new CountDownLatch(1);

    private Outage(long step, long version, Duration length, boolean hold, String when) {
      this.step = step;
      this.version = version;
      this.length = length;
      this.hold = hold;
      this.when = when;
    }

    static Outage atStep(long step, Duration length, boolean hold, String when) {
      return new Outage(step, -1, length, hold, when);
    }

    /**
     * Holds the trainer, so that the next step's step-log record is sent into the outage, not
     * before it.
     */
    static Outage afterVersion(long version, Duration length, String when) {
      return new Outage(-1, version, length, true, when);
    }

    /**
     * Called on the training thread; only the first time counts (a rolled-back step is reached
     * again).
     */
    void reach() {
      if (reached.getCount() == 0) {
        return;
      }
      reached.countDown();
      if (hold) {
        try {
          down.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static Run train(Path dir, Map<String, Object> clientOverrides, List<Outage> outages)
      throws Exception {
    Path data = dir.resolve("kafka");
    int port = freePort();
    int controllerPort = freePort();
    EmbeddedKafka[] broker = {EmbeddedKafka.start(data, port, controllerPort)};
    String bootstrap = broker[0].bootstrapServers();
    CompletableFuture<Long> running = null;
    StreamTrainer trainer = null;
    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(bootstrap, 0)) {
      String prefix = EmbeddedKafka.uniqueName("restart");
      String frames = prefix + ".frames";
      try (Admin admin =
          Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin
            .createTopics(List.of(new NewTopic(frames, 2, (short) 1)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      // Two of the first frames are broken: their dead letters ride in the transactions the outages
      // disturb.
      int firstPart = BATCH * STEPS_BEFORE + 2;
      TestFrames.send(bootstrap, registry.url(), frames, firstPart, i -> i == 5 || i == 40);

      Map<String, String> settings = StreamTrainerTest.tinyRun(prefix, dir.resolve("keys"), STEPS);
      settings.put(TrainerConfig.PUBLISH_EVERY_STEPS_CONFIG, String.valueOf(PUBLISH_EVERY));
      TrainerConfig config = TrainerConfig.of(settings);

      Run run =
          new Run(
              Collections.synchronizedList(new ArrayList<>()),
              Collections.synchronizedList(new ArrayList<>()),
              Collections.synchronizedList(new ArrayList<>()));
      List<EncoderVersion> published = Collections.synchronizedList(new ArrayList<>());
      TrainerListener listener =
          new TrainerListener() {
            @Override
            public void onStep(
                long step,
                double loss,
                int images,
                long rejected,
                long skipped,
                double ips,
                long lag) {
              run.stepsSeen.add(step);
              outages.stream().filter(o -> o.step == step).forEach(Outage::reach);
            }

            @Override
            public void onPublished(EncoderVersion version) {
              published.add(version);
              outages.stream()
                  .filter(o -> o.version == version.getVersion())
                  .forEach(Outage::reach);
            }

            @Override
            public void onRecovered(long step, String cause) {
              run.rolledBackTo.add(step);
              run.recoveries.add("rolled back to step " + step + " after " + cause);
            }
          };
      StreamTrainer t =
          new StreamTrainer(config, bootstrap, registry.url(), listener, clientOverrides);
      trainer = t;
      running =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return t.run();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw new IllegalStateException(e);
                }
              },
              runnable -> new Thread(runnable, "trainer").start());

      for (Outage outage : outages) {
        await(outage.reached, running, outage.when);
        restart(broker, data, port, controllerPort, outage);
      }
      // The rest of the frames, so that the trainer also has to fetch from a restarted broker.
      int secondPart = BATCH * (STEPS - STEPS_BEFORE);
      TestFrames.send(bootstrap, registry.url(), frames, secondPart, i -> false);
      long lastVersion = running.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      log.info(
          "trainer done at version {}; steps reported {}; recoveries {}",
          lastVersion,
          run.stepsSeen,
          run.recoveries);

      assertEquals(STEPS / PUBLISH_EVERY, lastVersion, "last committed version");
      List<TrainerStep> steps =
          CommittedHistory.steps(bootstrap, registry.url(), prefix + ".steps", config.modelName());
      assertEquals(STEPS, steps.size(), "committed steps");
      Map<String, Long> ends =
          CommittedHistory.assertTilesExactlyOnce(steps, "run with broker restarts");
      assertEquals(
          firstPart + secondPart,
          ends.values().stream().mapToLong(Long::longValue).sum(),
          "consumed range " + ends + " against the frames written");
      assertEquals(
          2,
          steps.stream().mapToInt(TrainerStep::getRejected).sum(),
          "rejected frames in the step log");
      assertEquals(
          2, CommittedHistory.deadLetterOrigins(bootstrap, prefix + ".dlq").size(), "dead letters");

      List<EncoderVersion> versions =
          CommittedHistory.versions(
              bootstrap, registry.url(), prefix + ".versions", config.modelName());
      assertEquals(
          List.of(1L, 2L, 3L, 4L), versions.stream().map(EncoderVersion::getVersion).toList());
      assertEquals(
          List.of(4L, 8L, 12L, 16L), versions.stream().map(EncoderVersion::getStep).toList());
      assertEquals(
          published.get(published.size() - 1).getPayloadSha256(),
          versions.get(versions.size() - 1).getPayloadSha256(),
          "the listener's last version is the committed one");

      Replayer.Result replayed =
          Replayer.replay(
              bootstrap,
              registry.url(),
              config,
              lastVersion,
              TrustedKeys.load(dir.resolve("keys").resolve(ModelSigning.PUBLIC_KEY_FILE)),
              null);
      assertTrue(
          replayed.match(),
          "final version against an uninterrupted replay of its steps: " + replayed.line());
      return run;
    } finally {
      if (trainer != null) {
        trainer.stop();
      }
      if (running != null) {
        try {
          running.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          log.info("trainer ended with {}", e.toString());
        }
      }
      broker[0].close();
    }
  }

  /**
   * Waits for the listener's signal, failing at once with the trainer's error if it ended instead.
   */
  private static void await(CountDownLatch signal, CompletableFuture<Long> run, String what)
      throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!signal.await(200, TimeUnit.MILLISECONDS)) {
      if (run.isDone()) {
        throw new AssertionError("trainer ended before " + what + " (returned " + run.get() + ")");
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("trainer did not reach " + what + " within " + WAIT);
      }
    }
  }

  private static void restart(
      EmbeddedKafka[] broker, Path data, int port, int controllerPort, Outage outage)
      throws InterruptedException {
    long t0 = System.nanoTime();
    broker[0].close();
    long stopped = System.nanoTime();
    outage.down.countDown();
    Thread.sleep(outage.length.toMillis());
    broker[0] = EmbeddedKafka.start(data, port, controllerPort);
    log.info(
        "broker restarted {}: shutdown {} ms, down {} ms, back at {}",
        outage.when,
        (stopped - t0) / 1_000_000,
        (System.nanoTime() - stopped) / 1_000_000,
        broker[0].bootstrapServers());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
