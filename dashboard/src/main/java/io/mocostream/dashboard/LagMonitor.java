package io.mocostream.dashboard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Consumer lag of each trainer: its group's committed offsets (the trainer commits them in the
 * transaction of each checkpoint, under {@code mocostream-trainer-<model>}) against the partitions'
 * last stable offsets.
 */
final class LagMonitor implements AutoCloseable {
  static final String GROUP_PREFIX = "mocostream-trainer-";

  private final Admin admin;

  LagMonitor(DashboardOptions o) {
    Map<String, Object> own = new HashMap<>();
    own.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    own.put(AdminClientConfig.CLIENT_ID_CONFIG, "mocostream-dashboard-lag");
    own.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    own.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    Map<String, Object> c = o.clients().admin(own);
    c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, o.bootstrap());
    admin = Admin.create(c);
  }

  /**
   * Measures the lag of {@code model}'s trainer into {@code state}; no committed offsets yet: lag
   * unknown.
   */
  void measure(String model, DashboardState state) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets(GROUP_PREFIX + model)
            .partitionsToOffsetAndMetadata()
            .get(15, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    committed.forEach(
        (tp, om) -> {
          if (om != null) {
            latest.put(tp, OffsetSpec.latest());
          }
        });
    if (latest.isEmpty()) {
      state.lag(model, null, List.of(), System.currentTimeMillis());
      return;
    }
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
        admin
            .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
            .all()
            .get(15, TimeUnit.SECONDS);
    long total = 0;
    List<Map<String, Object>> parts = new ArrayList<>();
    for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e : ends.entrySet()) {
      long c = committed.get(e.getKey()).offset();
      long end = e.getValue().offset();
      long lag = Math.max(0, end - c);
      total += lag;
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("partition", DashboardState.text(e.getKey().toString(), 260));
      p.put("committed", c);
      p.put("end", end);
      p.put("lag", lag);
      parts.add(p);
    }
    parts.sort((a, b) -> ((String) a.get("partition")).compareTo((String) b.get("partition")));
    state.lag(model, total, parts, System.currentTimeMillis());
  }

  @Override
  public void close() {
    admin.close(java.time.Duration.ofSeconds(2));
  }
}
