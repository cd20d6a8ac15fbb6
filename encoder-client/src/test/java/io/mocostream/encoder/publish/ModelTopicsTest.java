package io.mocostream.encoder.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaClusterExtension.class)
class ModelTopicsTest {

  @Test
  void createsTheTopicOnceWithDeleteRetentionAndLargeMessages(KafkaCluster cluster)
      throws Exception {
    String topic = "encoder-client.model-topic";
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      assertTrue(
          ModelTopics.ensure(admin, topic, new ModelTopics.Settings(1, -1, 3 * 1024 * 1024)));
      assertFalse(ModelTopics.ensure(admin, topic), "a second call finds it");
      ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Config c = admin.describeConfigs(List.of(r)).all().get().get(r);
      assertEquals("delete", c.get("cleanup.policy").value());
      assertEquals("-1", c.get("retention.ms").value());
      assertEquals(Integer.toString(3 * 1024 * 1024), c.get("max.message.bytes").value());
      assertEquals(
          1,
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get()
              .get(topic)
              .partitions()
              .size());
    }
  }

  @Test
  void aCompactedTopicIsRefused(KafkaCluster cluster) {
    String topic = "encoder-client.compacted";
    cluster.createTopic(topic, 1, Map.of("cleanup.policy", "compact"));
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> ModelTopics.ensure(admin, topic));
      assertTrue(
          e.getMessage().contains(topic) && e.getMessage().contains("compact"), e.getMessage());
    }
  }

  @Test
  void settingsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> new ModelTopics.Settings(0, -1, 4 << 20));
    assertThrows(IllegalArgumentException.class, () -> new ModelTopics.Settings(1, 0, 4 << 20));
    assertThrows(IllegalArgumentException.class, () -> new ModelTopics.Settings(1, -1, 1 << 20));
  }
}
