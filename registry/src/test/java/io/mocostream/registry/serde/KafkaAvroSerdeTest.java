package io.mocostream.registry.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.ImageFrame;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The serdes against the real embedded registry: Confluent's wire format byte by byte, evolution,
 * errors, caches.
 */
class KafkaAvroSerdeTest {
  private static EmbeddedKafka kafka;
  private static EmbeddedSchemaRegistry registry;
  private static SchemaRegistryClient admin;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.startTemporary();
    registry = EmbeddedSchemaRegistry.start(kafka.bootstrapServers(), 0);
    admin = SchemaRegistryClient.fromConfigs(Map.of("schema.registry.url", registry.url()));
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  static ImageFrame frame(long sequence) {
    byte[] pixels = new byte[64];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 7 + sequence);
    }
    return ImageFrame.newBuilder()
        .setSourceId("cam-" + (sequence % 3))
        .setSequence(sequence)
        .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + sequence))
        .setContentType(ContentType.RAW_GREY)
        .setData(ByteBuffer.wrap(pixels))
        .setWidth(8)
        .setHeight(8)
        .setLabel((int) (sequence % 10))
        .setAttributes(Map.of("file", "f" + sequence + ".png"))
        .build();
  }

  private static KafkaAvroSerializer serializer(Map<String, Object> extra) {
    Map<String, Object> configs = new HashMap<>(extra);
    configs.put("schema.registry.url", registry.url());
    KafkaAvroSerializer s = new KafkaAvroSerializer();
    s.configure(configs, false);
    return s;
  }

  private static KafkaAvroDeserializer deserializer(Map<String, Object> extra) {
    Map<String, Object> configs = new HashMap<>(extra);
    configs.put("schema.registry.url", registry.url());
    KafkaAvroDeserializer d = new KafkaAvroDeserializer();
    d.configure(configs, false);
    return d;
  }

  private static KafkaAvroDeserializer specificDeserializer() {
    return deserializer(Map.of("specific.avro.reader", true));
  }

  private static byte[] plainAvro(ImageFrame frame) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<ImageFrame>(ImageFrame.getClassSchema(), frame.getSpecificData())
        .write(frame, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  // ---------------------------------------------------------------------------------------------
  // wire format

  @Test
  void imageFrameIsMagicByteThenBigEndianIdThenPlainAvro() throws Exception {
    ImageFrame frame = frame(42);
    byte[] bytes;
    try (KafkaAvroSerializer serializer = new KafkaAvroSerializer()) {
      serializer.configure(Map.of("schema.registry.url", registry.url()), false);
      bytes = serializer.serialize("wire.frames", frame);
    }
    int id = admin.getLatest("wire.frames-value").id();
    assertEquals(
        ImageFrame.getClassSchema(), admin.getById(id), "the record's own schema was registered");

    assertEquals(0, bytes[0], "magic byte");
    byte[] idBytes = ByteBuffer.allocate(4).putInt(id).array();
    assertArrayEquals(idBytes, Arrays.copyOfRange(bytes, 1, 5), "schema id, 4 bytes big-endian");
    assertArrayEquals(
        plainAvro(frame), Arrays.copyOfRange(bytes, 5, bytes.length), "then plain Avro binary");

    try (KafkaAvroDeserializer deserializer = specificDeserializer()) {
      ImageFrame back = (ImageFrame) deserializer.deserialize("wire.frames", bytes);
      assertEquals(frame, back);
      assertEquals(
          Instant.ofEpochMilli(1_700_000_000_042L),
          back.getCaptureTime(),
          "logical types via the class");
    }
  }

  @Test
  void decodesAHandBuiltRecord() {
    Schema schema =
        SchemaBuilder.record("Pair")
            .namespace("test.wire")
            .fields()
            .requiredString("name")
            .requiredInt("n")
            .endRecord();
    int id = admin.register("wire.hand-value", schema);
    // Avro binary by hand: string "ab" = zig-zag length 2 (0x04) + 'a' 'b'; int 3 = zig-zag 0x06.
    byte[] bytes = {
      0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id, 0x04, 'a', 'b', 0x06
    };
    try (KafkaAvroDeserializer deserializer = deserializer(Map.of())) {
      GenericRecord record = (GenericRecord) deserializer.deserialize("wire.hand", bytes);
      assertEquals("ab", record.get("name").toString());
      assertEquals(3, record.get("n"));
      assertEquals(schema, record.getSchema());
    }
  }

  @Test
  void nullIsNullBothWays() {
    try (KafkaAvroSerializer s = serializer(Map.of());
        KafkaAvroDeserializer d = specificDeserializer()) {
      assertNull(s.serialize("wire.null", null));
      assertNull(d.deserialize("wire.null", null));
    }
  }

  @Test
  void primitivesAndKeysUseConfluentSchemasAndKeySubjects() {
    KafkaAvroSerializer keys = new KafkaAvroSerializer();
    keys.configure(Map.of("schema.registry.url", registry.url()), true);
    KafkaAvroDeserializer keyReader = new KafkaAvroDeserializer();
    keyReader.configure(
        Map.of("schema.registry.url", registry.url(), "specific.avro.reader", true), true);
    try (keys;
        keyReader) {
      byte[] bytes = keys.serialize("wire.prim", "cam-1");
      assertEquals(
          "cam-1",
          keyReader.deserialize("wire.prim", bytes),
          "strings come back as String, not Utf8");
      assertEquals(
          Schema.create(Schema.Type.STRING), admin.getById(admin.getLatest("wire.prim-key").id()));
      assertArrayEquals(
          new byte[] {0x0a, 'c', 'a', 'm', '-', '1'}, Arrays.copyOfRange(bytes, 5, bytes.length));
      for (Object value : List.of(7L, 7, true, 2.5d, 1.5f)) {
        assertEquals(
            value,
            keyReader.deserialize(
                "wire.prim." + value.getClass().getSimpleName(),
                keys.serialize("wire.prim." + value.getClass().getSimpleName(), value)));
      }
      Object raw =
          keyReader.deserialize(
              "wire.prim.bytes", keys.serialize("wire.prim.bytes", new byte[] {1, 2, 3}));
      assertArrayEquals(
          new byte[] {1, 2, 3}, (byte[]) raw, "bytes come back as byte[], as from Confluent's");
      SerializationException e =
          assertThrows(
              SerializationException.class, () -> keys.serialize("wire.prim", new Object()));
      assertTrue(
          e.getMessage().contains("java.lang.Object") && e.getMessage().contains("wire.prim"),
          e.getMessage());
    }
  }

  // -----------------------------------------------------------------------------------------------
  // evolution

  /** ImageFrame as it might have been before label and attributes were added (same full name). */
  static Schema imageFrameV1() {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : ImageFrame.getClassSchema().getFields()) {
      if (!f.name().equals("label") && !f.name().equals("attributes")) {
        fields.add(new Schema.Field(f, f.schema()));
      }
    }
    Schema v1 = Schema.createRecord("ImageFrame", null, "io.mocostream.schemas", false);
    v1.setFields(fields);
    return v1;
  }

  @Test
  void dataWrittenWithV1ReadsIntoTheV2ClassWithDefaults() {
    Schema v1 = imageFrameV1();
    GenericRecord old = new GenericData.Record(v1);
    old.put("sourceId", "cam-old");
    old.put("sequence", 5L);
    old.put("captureTime", 1_600_000_000_000L);
    old.put("contentType", new GenericData.EnumSymbol(v1.getField("contentType").schema(), "PNG"));
    old.put("data", ByteBuffer.wrap(new byte[] {9, 8, 7}));
    old.put("width", 3);
    old.put("height", null);
    byte[] bytes;
    try (KafkaAvroSerializer s = serializer(Map.of())) {
      bytes = s.serialize("evo.frames", old);
    }
    assertEquals(v1, admin.getById(admin.getLatest("evo.frames-value").id()), "written with v1");

    try (KafkaAvroDeserializer d = specificDeserializer()) {
      ImageFrame read = (ImageFrame) d.deserialize("evo.frames", bytes);
      assertEquals("cam-old", read.getSourceId());
      assertEquals(5L, read.getSequence());
      assertEquals(Instant.ofEpochMilli(1_600_000_000_000L), read.getCaptureTime());
      assertEquals(ContentType.PNG, read.getContentType());
      assertEquals(ByteBuffer.wrap(new byte[] {9, 8, 7}), read.getData());
      assertEquals(3, read.getWidth());
      assertNull(read.getHeight());
      assertNull(read.getLabel(), "added field takes its default");
      assertEquals(Map.of(), read.getAttributes(), "added field takes its default");
    }

    // v2 (the class) is BACKWARD compatible with v1, so it registers as version 2 of the same
    // subject; a
    // generic reader with use.latest.version then sees old data in the new shape.
    try (KafkaAvroSerializer s = serializer(Map.of())) {
      s.serialize("evo.frames", frame(1));
    }
    assertEquals(List.of(1, 2), admin.versions("evo.frames-value"));
    try (KafkaAvroDeserializer d = deserializer(Map.of("use.latest.version", true))) {
      GenericRecord read = (GenericRecord) d.deserialize("evo.frames", bytes);
      assertEquals(ImageFrame.getClassSchema(), read.getSchema());
      assertNull(read.get("label"));
      assertEquals(Map.of(), read.get("attributes"));
      assertEquals("cam-old", read.get("sourceId").toString());
    }
  }

  @Test
  void aRecordClassIsUsedWhateverTheWriterSchemaIsCalled() {
    // A writer schema with another name, read into ImageFrame by naming the class
    // (specific.avro.value.type).
    Schema renamed =
        SchemaBuilder.record("LegacyFrame")
            .namespace("legacy")
            .aliases("io.mocostream.schemas.ImageFrame")
            .fields()
            .requiredString("sourceId")
            .requiredLong("sequence")
            .name("captureTime")
            .type(
                new org.apache.avro.LogicalType("timestamp-millis")
                    .addToSchema(Schema.create(Schema.Type.LONG)))
            .noDefault()
            .name("contentType")
            .type()
            .enumeration("ContentType")
            .namespace("io.mocostream.schemas")
            .symbols("JPEG", "PNG", "GIF", "BMP", "RAW_GREY", "RAW_RGB")
            .noDefault()
            .requiredBytes("data")
            .endRecord();
    GenericRecord legacy = new GenericData.Record(renamed);
    legacy.put("sourceId", "cam-legacy");
    legacy.put("sequence", 1L);
    legacy.put("captureTime", 5L);
    legacy.put(
        "contentType",
        new GenericData.EnumSymbol(renamed.getField("contentType").schema(), "JPEG"));
    legacy.put("data", ByteBuffer.wrap(new byte[] {1}));
    byte[] bytes;
    try (KafkaAvroSerializer s = serializer(Map.of())) {
      bytes = s.serialize("evo.legacy", legacy);
    }
    try (SpecificAvroSerde<ImageFrame> serde = new SpecificAvroSerde<>(ImageFrame.class)) {
      serde.configure(Map.of("schema.registry.url", registry.url()), false);
      ImageFrame read = serde.deserializer().deserialize("evo.legacy", bytes);
      assertEquals("cam-legacy", read.getSourceId());
      assertNull(read.getWidth());
      // And the serde's own round trip.
      ImageFrame f = frame(9);
      assertEquals(
          f,
          serde
              .deserializer()
              .deserialize("evo.serde", serde.serializer().serialize("evo.serde", f)));
    }
  }

  // --------------------------------------------------------------------------------------------
  // bad records

  @Test
  void badRecordsFailWithTopicWhatWasFoundAndWhy() {
    byte[] good;
    try (KafkaAvroSerializer s = serializer(Map.of())) {
      good = s.serialize("bad.frames", frame(3));
    }
    int id = admin.getLatest("bad.frames-value").id();
    try (KafkaAvroDeserializer d = specificDeserializer()) {
      byte[] badMagic = good.clone();
      badMagic[0] = 1;
      String magic =
          assertThrows(SerializationException.class, () -> d.deserialize("bad.frames", badMagic))
              .getMessage();
      assertTrue(magic.contains("'bad.frames'") && magic.contains("magic byte 0x01"), magic);

      String text =
          assertThrows(
                  SerializationException.class,
                  () ->
                      d.deserialize(
                          "bad.frames", "{\"json\":true}".getBytes(StandardCharsets.UTF_8)))
              .getMessage();
      assertTrue(text.contains("magic byte 0x7b"), text);

      String shortRecord =
          assertThrows(
                  SerializationException.class,
                  () -> d.deserialize("bad.frames", new byte[] {0, 0, 1}))
              .getMessage();
      assertTrue(
          shortRecord.contains("3 byte(s)") && shortRecord.contains("'bad.frames'"), shortRecord);

      byte[] unknownId = good.clone();
      unknownId[1] = 0x7f; // id 0x7f0000xx
      int missing = ByteBuffer.wrap(unknownId, 1, 4).getInt();
      String unknown =
          assertThrows(SerializationException.class, () -> d.deserialize("bad.frames", unknownId))
              .getMessage();
      assertTrue(
          unknown.contains("unknown schema id " + missing) && unknown.contains("'bad.frames'"),
          unknown);

      byte[] truncated = Arrays.copyOf(good, good.length - 10);
      String cut =
          assertThrows(SerializationException.class, () -> d.deserialize("bad.frames", truncated))
              .getMessage();
      assertTrue(
          cut.contains("schema id " + id)
              && cut.contains("truncated")
              && cut.contains("'bad.frames'"),
          cut);

      byte[] trailing = Arrays.copyOf(good, good.length + 3);
      String extra =
          assertThrows(SerializationException.class, () -> d.deserialize("bad.frames", trailing))
              .getMessage();
      assertTrue(extra.contains("3 byte(s) left over"), extra);

      // A length prefix claiming ~1 GB with 2 bytes behind it must fail without allocating the
      // gigabyte.
      Schema blob =
          SchemaBuilder.record("Blob")
              .namespace("test.wire")
              .fields()
              .requiredBytes("b")
              .endRecord();
      int blobId = admin.register("bad.blob-value", blob);
      byte[] huge = {
        0,
        (byte) (blobId >>> 24),
        (byte) (blobId >>> 16),
        (byte) (blobId >>> 8),
        (byte) blobId,
        (byte) 0x80,
        (byte) 0xa8,
        (byte) 0xd6,
        (byte) 0xb9,
        0x07,
        1,
        2
      }; // zig-zag varint of 1e9
      Schema longs =
          SchemaBuilder.record("Longs")
              .namespace("test.wire")
              .fields()
              .name("a")
              .type()
              .array()
              .items()
              .longType()
              .noDefault()
              .endRecord();
      int longsId = admin.register("bad.longs-value", longs);
      byte[] manyLongs =
          huge.clone(); // the same varint, now an array block count: 1e9 longs = 8 GB as longs
      System.arraycopy(ByteBuffer.allocate(4).putInt(longsId).array(), 0, manyLongs, 1, 4);
      try (KafkaAvroDeserializer generic = deserializer(Map.of())) {
        // Valid records of both schemas first, so the schema fetches are not counted below.
        byte[] oneByte = {0, huge[1], huge[2], huge[3], huge[4], 0x02, 0x07};
        assertEquals(
            ByteBuffer.wrap(new byte[] {7}),
            ((GenericRecord) generic.deserialize("bad.blob", oneByte)).get("b"));
        byte[] noLongs = {0, manyLongs[1], manyLongs[2], manyLongs[3], manyLongs[4], 0x00};
        assertEquals(
            List.of(), ((GenericRecord) generic.deserialize("bad.blob", noLongs)).get("a"));
        for (byte[] lying : List.of(huge, manyLongs)) {
          long before = allocatedBytes();
          String lie =
              assertThrows(
                      SerializationException.class, () -> generic.deserialize("bad.blob", lying))
                  .getMessage();
          long allocated = allocatedBytes() - before;
          assertTrue(lie.contains("'bad.blob'") && lie.contains("truncated"), lie);
          assertTrue(
              allocated < 16 << 20,
              "refused before allocating what the length claims: "
                  + allocated
                  + " bytes allocated");
        }
      }
    }
  }

  /** Bytes allocated by this thread so far (HotSpot's per-thread counter). */
  private static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean)
            java.lang.management.ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  @Test
  void specificReaderWithoutAClassSaysWhichClassIsMissing() {
    Schema orphan =
        SchemaBuilder.record("NoSuchClass")
            .namespace("test.orphan")
            .fields()
            .requiredInt("x")
            .endRecord();
    GenericRecord r = new GenericData.Record(orphan);
    r.put("x", 1);
    byte[] bytes;
    try (KafkaAvroSerializer s = serializer(Map.of())) {
      bytes = s.serialize("bad.orphan", r);
    }
    try (KafkaAvroDeserializer d = specificDeserializer()) {
      String message =
          assertThrows(SerializationException.class, () -> d.deserialize("bad.orphan", bytes))
              .getMessage();
      assertTrue(
          message.contains("test.orphan.NoSuchClass") && message.contains("specific.avro.reader"),
          message);
    }
  }

  @Test
  void aRecordThatDoesNotFitItsSchemaFailsNamingTopicAndSchema() {
    Schema schema =
        SchemaBuilder.record("Strict")
            .namespace("test.wire")
            .fields()
            .requiredString("s")
            .endRecord();
    GenericRecord r = new GenericData.Record(schema); // "s" left null
    try (KafkaAvroSerializer s = serializer(Map.of())) {
      String message =
          assertThrows(SerializationException.class, () -> s.serialize("bad.strict", r))
              .getMessage();
      assertTrue(message.contains("'bad.strict'") && message.contains("test.wire.Strict"), message);
      // The per-thread buffer is clean again afterwards.
      GenericRecord fine = new GenericData.Record(schema);
      fine.put("s", "ok");
      assertEquals(5 + 3, s.serialize("bad.strict", fine).length);
    }
  }

  // --------------------------------------------------------------------------------------
  // registration modes

  @Test
  void withoutAutoRegisterTheSchemaIsLookedUpAndMustExist() {
    Schema schema =
        SchemaBuilder.record("Manual")
            .namespace("test.modes")
            .fields()
            .requiredLong("t")
            .endRecord();
    GenericRecord r = new GenericData.Record(schema);
    r.put("t", 1L);
    try (KafkaAvroSerializer s = serializer(Map.of("auto.register.schemas", false))) {
      SerializationException e =
          assertThrows(SerializationException.class, () -> s.serialize("modes.manual", r));
      assertTrue(
          e.getMessage().contains("auto.register.schemas=false")
              && e.getMessage().contains("modes.manual-value")
              && e.getMessage().contains("40401"),
          e.getMessage());
      assertTrue(
          admin.subjects().stream().noneMatch(x -> x.equals("modes.manual-value")),
          "nothing registered");

      int id = admin.register("modes.manual-value", schema);
      byte[] bytes = s.serialize("modes.manual", r);
      assertEquals(id, ByteBuffer.wrap(bytes, 1, 4).getInt());
      assertEquals(List.of(1), admin.versions("modes.manual-value"));

      GenericRecord other =
          new GenericData.Record(
              SchemaBuilder.record("Manual")
                  .namespace("test.modes")
                  .fields()
                  .requiredLong("t")
                  .optionalString("note")
                  .endRecord());
      other.put("t", 2L);
      SerializationException e2 =
          assertThrows(SerializationException.class, () -> s.serialize("modes.manual", other));
      assertTrue(
          e2.getMessage().contains("40403"),
          "subject exists, schema is not in it: " + e2.getMessage());
    }
  }

  @Test
  void useLatestVersionWritesWithTheLatestIdWhenFieldsLineUp() {
    Schema registered =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Latest\",\"namespace\":\"test.modes\",\"doc\":\"registered copy\","
                    + "\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"doc\":\"docs differ\"}]}");
    int id = admin.register("modes.latest-value", registered);
    Schema local =
        SchemaBuilder.record("Latest")
            .namespace("test.modes")
            .fields()
            .requiredInt("a")
            .endRecord();
    GenericRecord r = new GenericData.Record(local);
    r.put("a", 11);
    try (KafkaAvroSerializer s =
            serializer(Map.of("use.latest.version", true, "auto.register.schemas", false));
        KafkaAvroDeserializer d = deserializer(Map.of())) {
      byte[] bytes = s.serialize("modes.latest", r);
      assertEquals(id, ByteBuffer.wrap(bytes, 1, 4).getInt());
      assertEquals(11, ((GenericRecord) d.deserialize("modes.latest", bytes)).get("a"));

      GenericRecord misfit =
          new GenericData.Record(
              SchemaBuilder.record("Latest")
                  .namespace("test.modes")
                  .fields()
                  .requiredString("a")
                  .endRecord());
      misfit.put("a", "x");
      String message =
          assertThrows(SerializationException.class, () -> s.serialize("modes.latest", misfit))
              .getMessage();
      assertTrue(
          message.contains("use.latest.version") && message.contains("modes.latest-value"),
          message);
    }
  }

  @Test
  void recordNameStrategyNamesTheSubjectAfterTheRecord() {
    try (KafkaAvroSerializer s =
        serializer(
            Map.of(
                "value.subject.name.strategy",
                "io.confluent.kafka.serializers.subject.RecordNameStrategy"))) {
      s.serialize("strategy.topic", frame(1));
    }
    assertTrue(admin.subjects().contains("io.mocostream.schemas.ImageFrame"));
    try (KafkaAvroSerializer s =
        serializer(Map.of("value.subject.name.strategy", "TopicRecordNameStrategy"))) {
      s.serialize("strategy.topic", frame(1));
    }
    assertTrue(admin.subjects().contains("strategy.topic-io.mocostream.schemas.ImageFrame"));
  }

  // ------------------------------------------------------------------------------------------------ hot path

  @Test
  void afterTheFirstRecordTheHotPathMakesNoHttpRequest() {
    try (KafkaAvroSerializer s = serializer(Map.of());
        KafkaAvroDeserializer d = specificDeserializer()) {
      long before = registry.requestCount();
      byte[] first = s.serialize("hot.frames", frame(0));
      assertEquals(before + 1, registry.requestCount(), "one registration");
      List<byte[]> all = new ArrayList<>();
      for (int i = 1; i < 1000; i++) {
        all.add(s.serialize("hot.frames", frame(i)));
      }
      assertEquals(before + 1, registry.requestCount(), "no request for the next 999 records");

      assertEquals(frame(0), d.deserialize("hot.frames", first));
      assertEquals(before + 2, registry.requestCount(), "one schema fetch by id");
      for (int i = 1; i < 1000; i++) {
        assertEquals(frame(i), d.deserialize("hot.frames", all.get(i - 1)));
      }
      assertEquals(before + 2, registry.requestCount(), "no request for the next 999 records");
    }
  }

  @Test
  void concurrentThreadsShareOneSerializerSafely() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (KafkaAvroSerializer s = serializer(Map.of());
        KafkaAvroDeserializer d = specificDeserializer()) {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t * 1000;
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    ImageFrame f = frame(offset + i);
                    if (!f.equals(d.deserialize("conc.frames", s.serialize("conc.frames", f)))) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> r : results) {
        assertTrue(r.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void serializerBeforeConfigureSaysSo() {
    assertInstanceOf(
        IllegalStateException.class,
        assertThrows(
            RuntimeException.class, () -> new KafkaAvroSerializer().serialize("t", frame(1))));
  }
}
