package io.mocostream.dashboard;

import io.mocostream.frames.DeadLetter;
import io.mocostream.registry.serde.KafkaAvroDeserializer;
import io.mocostream.registry.serde.KafkaAvroSerDeConfig;
import io.mocostream.schemas.StepSegment;
import io.mocostream.schemas.TrainerStep;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the step log and the dead-letter topic from their beginning (read_committed, no consumer
 * group: the dashboard leaves no trace on the cluster) into the {@link DashboardState}. Each record
 * is handled on its own: one that cannot be read is counted and skipped. A broker outage is
 * reported on the page and waited out.
 */
final class TopicFollower implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(TopicFollower.class);

  /**
   * A step record larger than this is not a step the trainer wrote (those are a few hundred bytes).
   */
  static final int MAX_STEP_BYTES = 256 * 1024;

  /** Kafka's rule for topic names: what a step log may name as the frames topic. */
  static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  private final DashboardOptions options;
  private final DashboardState state;
  private final Consumer<String> onNewModel;
  private final Consumer<String> onFramesTopic;
  private volatile boolean running = true;

  TopicFollower(
      DashboardOptions options,
      DashboardState state,
      Consumer<String> onNewModel,
      Consumer<String> onFramesTopic) {
    this.options = options;
    this.state = state;
    this.onNewModel = onNewModel;
    this.onFramesTopic = onFramesTopic;
  }

  static Map<String, Object> consumerConfig(DashboardOptions o, String clientId) {
    Map<String, Object> own = new HashMap<>();
    own.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    own.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    own.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    own.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    own.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    own.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    Map<String, Object> c = o.clients().consumer(own);
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    return c;
  }

  void stop() {
    running = false;
  }

  @Override
  public void run() {
    Map<String, Object> serde = new HashMap<>(options.clients().serde(Map.of()));
    serde.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, options.registryUrl());
    serde.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true);
    try (KafkaAvroDeserializer steps = new KafkaAvroDeserializer();
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                consumerConfig(options, "mocostream-dashboard"),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
      steps.configure(serde, false);
      Set<TopicPartition> assigned = new HashSet<>();
      long nextAssignCheck = 0;
      while (running) {
        try {
          if (System.currentTimeMillis() >= nextAssignCheck) {
            // Topics may appear after the dashboard starts (it may start before the trainer), and
            // gain partitions.
            nextAssignCheck = System.currentTimeMillis() + 10_000;
            Set<TopicPartition> all = new HashSet<>(assigned);
            for (String t : List.of(options.stepsTopic(), options.dlqTopic())) {
              List<PartitionInfo> ps = consumer.partitionsFor(t, Duration.ofSeconds(10));
              for (PartitionInfo p : ps == null ? List.<PartitionInfo>of() : ps) {
                all.add(new TopicPartition(p.topic(), p.partition()));
              }
            }
            if (!all.equals(assigned)) {
              Set<TopicPartition> added = new HashSet<>(all);
              added.removeAll(assigned);
              consumer.assign(all);
              consumer.seekToBeginning(added);
              assigned = all;
            }
          }
          if (assigned.isEmpty()) {
            Thread.sleep(1000);
            continue;
          }
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            try {
              if (r.topic().equals(options.stepsTopic())) {
                step(steps, r);
              } else {
                deadLetter(r);
              }
            } catch (Throwable e) { // one record, whatever it holds, never stops the dashboard
              if (r.topic().equals(options.stepsTopic())) {
                state.unreadableStep();
              }
              log.debug(
                  "record {}-{}@{} skipped: {}",
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  e.toString());
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (org.apache.kafka.common.errors.InterruptException e) {
          return;
        } catch (RuntimeException e) {
          if (!running) {
            return;
          }
          state.error("reading " + options.stepsTopic() + " and " + options.dlqTopic() + ": " + e);
          log.warn(
              "reading {} and {}: {}; retrying",
              options.stepsTopic(),
              options.dlqTopic(),
              e.toString());
          sleep(2000);
        }
      }
    }
  }

  private void step(KafkaAvroDeserializer steps, ConsumerRecord<byte[], byte[]> r) {
    if (r.value() == null || r.value().length > MAX_STEP_BYTES) {
      state.unreadableStep();
      return;
    }
    Object v = steps.deserialize(r.topic(), r.headers(), r.value());
    if (!(v instanceof TrainerStep s)) {
      state.unreadableStep();
      return;
    }
    String model = s.getModelName();
    if (!validModel(model)) {
      state.unreadableStep();
      return;
    }
    if (!state.hasModel(model)) {
      if (!options.models().isEmpty() || state.modelCount() >= DashboardOptions.MAX_MODELS) {
        state
            .ignoredStep(); // not a model this dashboard follows (the page says how many such steps
        // it skipped)
        return;
      }
      onNewModel.accept(model);
    }
    state.step(
        model,
        s.getStep(),
        s.getLoss(),
        s.getBatchSize(),
        s.getCreatedAt().toEpochMilli(),
        s.getSkipped());
    for (StepSegment seg : s.getSegments()) {
      if (TOPIC_NAME.matcher(seg.getTopic()).matches()) {
        onFramesTopic.accept(seg.getTopic());
        break;
      }
    }
  }

  /**
   * A model name the dashboard will follow: 1..128 characters, none of them a control character.
   */
  static boolean validModel(String model) {
    if (model == null || model.isBlank() || model.length() > 128) {
      return false;
    }
    for (int i = 0; i < model.length(); i++) {
      if (Character.isISOControl(model.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private void deadLetter(ConsumerRecord<byte[], byte[]> r) {
    String reason = header(r, DeadLetter.REASON_HEADER);
    state.deadLetter(
        reason == null ? "(no reason header)" : reason,
        header(r, DeadLetter.MESSAGE_HEADER),
        header(r, DeadLetter.ORIGIN_HEADER),
        header(r, DeadLetter.STAGE_HEADER),
        // a writer chooses the timestamp: one in the future must not push the real minutes out of
        // the chart
        Math.min(r.timestamp(), System.currentTimeMillis()));
  }

  /**
   * The last header of that name, its first 4 KiB as UTF-8 (bounded before decoding); null when
   * absent.
   */
  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    if (h == null || h.value() == null) {
      return null;
    }
    byte[] b = h.value();
    return new String(b, 0, Math.min(b.length, 4096), StandardCharsets.UTF_8);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
