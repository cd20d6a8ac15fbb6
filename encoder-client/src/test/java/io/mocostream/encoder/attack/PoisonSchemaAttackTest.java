package io.mocostream.encoder.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.encoder.Drafts;
import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.client.VersionSubscriber;
import io.mocostream.encoder.format.ModelSigner;
import io.mocostream.encoder.format.ModelSigning;
import io.mocostream.encoder.publish.EncoderPublisher;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: records whose writer schema is named like the model topic's but shaped otherwise. A
 * manifest schema without {@code modelName} (NullPointerException) or with {@code version} as a
 * string (ClassCastException) escaped per-record handling, dropped the rest of the poll and, during
 * positioning, made the subscriber re-position for ever. Now each is one reported refusal ({@code
 * UNREADABLE}) and everything around it goes on.
 */
@ExtendWith(KafkaClusterExtension.class)
class PoisonSchemaAttackTest {
  private final ModelSigner trainer = ModelSigning.generate();

  @Test
  void manifestsAndChunksOfAnotherShapeAreRefusedOneByOne(KafkaCluster cluster) {
    String topic = AttackKit.topic(cluster, "poison");
    EncoderPublisher publisher = new EncoderPublisher(topic, trainer, 1000);
    try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
      publisher.publishInOwnTransaction(producer, Drafts.draft("m", 1), Drafts.payload(2500, 1));
    }
    Schema noModelName = record("EncoderVersion", "{\"name\":\"x\",\"type\":\"string\"}");
    Schema stringVersion =
        record(
            "EncoderVersion",
            "{\"name\":\"modelName\",\"type\":\"string\"},"
                + "{\"name\":\"version\",\"type\":\"string\"},{\"name\":\"chunkCount\",\"type\":\"string\"}");
    Schema stringCount =
        record(
            "EncoderChunk",
            "{\"name\":\"modelName\",\"type\":\"string\"},"
                + "{\"name\":\"version\",\"type\":\"long\"},{\"name\":\"count\",\"type\":\"string\"}");
    GenericRecord a = new GenericData.Record(noModelName);
    a.put("x", "boom");
    GenericRecord b = new GenericData.Record(stringVersion);
    b.put("modelName", "m");
    b.put("version", "99");
    b.put("chunkCount", "many");
    GenericRecord c = new GenericData.Record(stringCount);
    c.put("modelName", "m");
    c.put("version", 5L);
    c.put("count", "lots");
    AttackKit.sendRaw(
        cluster,
        topic,
        "m",
        List.of(
            AttackKit.wire(AttackKit.register(cluster, "poison-a", noModelName), avro(a)),
            AttackKit.wire(AttackKit.register(cluster, "poison-b", stringVersion), avro(b)),
            AttackKit.wire(AttackKit.register(cluster, "poison-c", stringCount), avro(c)),
            new byte[] {1, 2, 3}));

    AttackKit.Recorder rec = new AttackKit.Recorder();
    try (VersionSubscriber sub =
        VersionSubscriber.builder(cluster.bootstrapServers(), cluster.registryUrl(), "m")
            .topic(topic)
            .trustedKeys(trainer.trustedKeys())
            .listener(rec)
            .build()) {
      AttackKit.pollUntil(
          sub, () -> rec.hasAccepted(1) && rec.refused.size() >= 4, Duration.ofSeconds(60));
      assertEquals(4, rec.refusedFor(Reason.UNREADABLE), rec.toString());
      try (KafkaProducer<String, Object> producer = AttackKit.trainerProducer(cluster)) {
        publisher.publishInOwnTransaction(producer, Drafts.draft("m", 2), Drafts.payload(2500, 2));
      }
      AttackKit.pollUntil(sub, () -> rec.hasAccepted(2), Duration.ofSeconds(60));
      assertEquals(List.of(1L, 2L), rec.acceptedVersions(), rec.toString());
      assertTrue(sub.lastError().isEmpty(), sub.lastError().toString());
      assertEquals(4, sub.stats().unreadableRecords());
    }
  }

  private static Schema record(String name, String fields) {
    return new Schema.Parser()
        .parse(
            "{\"type\":\"record\",\"name\":\""
                + name
                + "\",\"namespace\":\"io.mocostream.schemas\",\"fields\":["
                + fields
                + "]}");
  }

  private static byte[] avro(GenericRecord r) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(r.getSchema()).write(r, enc);
      enc.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
