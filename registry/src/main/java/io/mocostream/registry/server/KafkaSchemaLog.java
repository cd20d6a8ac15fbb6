package io.mocostream.registry.server;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's storage: one compacted, single-partition topic, as in Confluent's registry. A
 * reader thread tails it from the beginning and applies each record to the in-memory state; writers
 * produce with acks=all and then wait until the reader has applied their offset, so the state only
 * ever holds what is durably in Kafka, in log order, and a restart rebuilds exactly the same state.
 */
final class KafkaSchemaLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaSchemaLog.class);

  /** Applies one record (key, value or null for a tombstone) at an offset. */
  interface Applier {
    void apply(long offset, byte[] key, byte[] value) throws Exception;
  }

  /** Storage failed: answered as 50001 (write failed) or 50002 (timed out). */
  static final class StoreException extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean timeout;

    StoreException(String message, boolean timeout, Throwable cause) {
      super(message, cause);
      this.timeout = timeout;
    }
  }

  private final String bootstrap;
  private final String topic;
  private final TopicPartition partition;
  private final Map<String, Object> extraKafkaConfig;
  private final Applier applier;
  private final Duration timeout;

  private Admin admin;
  private KafkaProducer<byte[], byte[]> producer;
  private KafkaConsumer<byte[], byte[]> consumer;
  private Thread reader;
  private volatile boolean running;
  private final Object progress = new Object();

  /** Offset of the next record the reader will apply (guarded by {@link #progress}). */
  private long nextOffset;

  private volatile long applied;

  KafkaSchemaLog(
      String bootstrap,
      String topic,
      Map<String, Object> extraKafkaConfig,
      Applier applier,
      Duration timeout) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.partition = new TopicPartition(topic, 0);
    this.extraKafkaConfig = Map.copyOf(extraKafkaConfig);
    this.applier = applier;
    this.timeout = timeout;
  }

  /**
   * Creates the topic if missing, starts the reader and returns once the whole existing log is
   * applied.
   */
  void start() throws StoreException {
    Map<String, Object> common = new HashMap<>(extraKafkaConfig);
    common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    admin = Admin.create(withClientId(common, "schema-registry-admin"));
    ensureTopic();

    Map<String, Object> p = withClientId(common, "schema-registry-writer");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
    p.put(
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE));
    p.put(
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
        (int) Math.min(timeout.toMillis() * 2, Integer.MAX_VALUE));
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());

    Map<String, Object> c = withClientId(common, "schema-registry-reader");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // Writers wait for the reader: a short fetch wait keeps a registration's round trip short.
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50);
    consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    consumer.assign(List.of(partition));
    consumer.seekToBeginning(List.of(partition));

    running = true;
    reader = new Thread(this::readLoop, "schema-registry-reader-" + topic);
    reader.setDaemon(true);
    reader.start();
    catchUp();
  }

  private Map<String, Object> withClientId(Map<String, Object> common, String id) {
    Map<String, Object> m = new HashMap<>(common);
    m.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, id);
    return m;
  }

  /**
   * Confluent's layout: compacted (a registry must never lose a schema to retention), one partition
   * (one total order of writes), replication min(3, brokers): 1 on a laptop's single broker. An
   * existing topic is checked, and so is one just created: right after a create the broker may not
   * list the topic yet, so unknown-topic and other retriable answers are retried until the store
   * timeout.
   */
  private void ensureTopic() throws StoreException {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean createTried = false;
    while (true) {
      try {
        try {
          TopicDescription description =
              admin
                  .describeTopics(List.of(topic))
                  .allTopicNames()
                  .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                  .get(topic);
          validate(description);
          return;
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || createTried) {
            throw e;
          }
        }
        createTried = true;
        int brokers =
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
        short rf = (short) Math.max(1, Math.min(3, brokers));
        NewTopic newTopic =
            new NewTopic(topic, 1, rf)
                .configs(
                    Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        try {
          admin
              .createTopics(List.of(newTopic))
              .all()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
          log.info(
              "created schemas topic {} (compacted, 1 partition, replication factor {})",
              topic,
              rf);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw new StoreException(
              "cannot prepare schemas topic "
                  + topic
                  + " on Kafka "
                  + bootstrap
                  + ": "
                  + e.getCause(),
              false,
              e.getCause());
        }
        pause();
      } catch (TimeoutException e) {
        throw new StoreException(
            "cannot prepare schemas topic "
                + topic
                + " on Kafka "
                + bootstrap
                + " within "
                + timeout.toMillis()
                + " ms: is Kafka running there?",
            true,
            e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException("interrupted while preparing schemas topic " + topic, false, e);
      }
    }
  }

  private void validate(TopicDescription description)
      throws StoreException, ExecutionException, InterruptedException, TimeoutException {
    if (description.partitions().size() != 1) {
      throw new StoreException(
          "schemas topic "
              + topic
              + " has "
              + description.partitions().size()
              + " partitions; it must have exactly 1 so that all registry writes have one order",
          false,
          null);
    }
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config =
        admin
            .describeConfigs(List.of(resource))
            .all()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .get(resource);
    ConfigEntry policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
    if (policy == null
        || !Set.of(policy.value().split(",")).contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      throw new StoreException(
          "schemas topic "
              + topic
              + " has cleanup.policy="
              + (policy == null ? "?" : policy.value())
              + "; it must be compact, or retention would delete schemas",
          false,
          null);
    }
  }

  private void pause() throws StoreException {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for schemas topic " + topic, false, e);
    }
  }

  private void readLoop() {
    while (running) {
      try {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            applier.apply(r.offset(), r.key(), r.value());
          } catch (Exception e) {
            // One unreadable record must not stop the registry; it is reported, with where it is.
            log.warn(
                "skipping unreadable record at offset {} of schemas topic {}: {}",
                r.offset(),
                topic,
                e.toString());
          }
          applied++;
        }
        long position = consumer.position(partition);
        synchronized (progress) {
          if (position != nextOffset) {
            nextOffset = position;
            progress.notifyAll();
          }
        }
      } catch (WakeupException e) {
        if (running) {
          continue;
        }
        return;
      } catch (RuntimeException e) {
        if (!running) {
          return;
        }
        log.warn("reading schemas topic {} failed, retrying in 1 s: {}", topic, e.toString());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /** Records applied since start (the whole log replay included). */
  long appliedCount() {
    return applied;
  }

  /** Appends one record, acknowledged by all in-sync replicas, and returns its offset. */
  long append(byte[] key, byte[] value) throws StoreException {
    try {
      return producer
          .send(new ProducerRecord<>(topic, 0, key, value))
          .get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)
          .offset();
    } catch (ExecutionException e) {
      throw new StoreException(
          "cannot write to schemas topic " + topic + ": " + e.getCause(), false, e.getCause());
    } catch (TimeoutException e) {
      throw new StoreException(
          "write to schemas topic "
              + topic
              + " not acknowledged within "
              + timeout.multipliedBy(2).toMillis()
              + " ms",
          true,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while writing to schemas topic " + topic, false, e);
    }
  }

  /** Waits until the reader has applied the record at {@code offset}. */
  void awaitApplied(long offset) throws StoreException {
    awaitPosition(offset + 1);
  }

  /**
   * Waits until the reader has applied everything in the topic now (writes from other registries
   * too).
   */
  void catchUp() throws StoreException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long end;
    while (true) {
      try {
        end =
            admin
                .listOffsets(Map.of(partition, OffsetSpec.latest()))
                .partitionResult(partition)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .offset();
        break;
      } catch (ExecutionException e) {
        // Retriable: a topic just created and not yet in the broker's metadata, a leader moving,
        // ...
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw new StoreException(
              "cannot read the end offset of schemas topic " + topic + ": " + e.getCause(),
              e.getCause() instanceof RetriableException,
              e.getCause());
        }
      } catch (TimeoutException e) {
        throw new StoreException(
            "end offset of schemas topic "
                + topic
                + " not known within "
                + timeout.toMillis()
                + " ms",
            true,
            e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StoreException("interrupted while reading schemas topic " + topic, false, e);
      }
      pause();
    }
    awaitPosition(end);
  }

  private void awaitPosition(long target) throws StoreException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (progress) {
      while (nextOffset < target) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !running) {
          throw new StoreException(
              "the registry's reader of "
                  + topic
                  + " has applied up to offset "
                  + nextOffset
                  + " but offset "
                  + (target - 1)
                  + " was awaited; gave up after "
                  + timeout.toMillis()
                  + " ms",
              true,
              null);
        }
        try {
          progress.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new StoreException(
              "interrupted while waiting for the reader of " + topic, false, e);
        }
      }
    }
  }

  @Override
  public void close() {
    running = false;
    if (consumer != null) {
      consumer.wakeup();
    }
    if (reader != null) {
      try {
        reader.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (progress) {
      progress.notifyAll();
    }
    // The consumer belongs to the reader thread; close it only once that thread is gone.
    if (consumer != null && (reader == null || !reader.isAlive())) {
      consumer.close();
    }
    // Every send was awaited and every admin call given up on by now: nothing pending is worth
    // waiting for,
    // and with Kafka gone the defaults would hold close() for seconds.
    if (producer != null) {
      producer.close(Duration.ofSeconds(1));
    }
    if (admin != null) {
      admin.close(Duration.ofSeconds(1));
    }
  }
}
