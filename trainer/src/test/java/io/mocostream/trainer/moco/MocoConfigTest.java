package io.mocostream.trainer.moco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.trainer.optim.LearningRate;
import io.mocostream.trainer.stream.TrainerConfig;
import io.mocostream.vision.model.Architecture;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/**
 * The trainer's and MoCo's settings on Kafka's ConfigDef: one documented definition per key,
 * presets as a key.
 */
class MocoConfigTest {
  /** The seven keys the demo and bench learn typed before the small-data preset existed. */
  static final Map<String, String> DEMO_KEYS =
      Map.of(
          MocoConfig.QUEUE_SIZE_CONFIG, "4096",
          MocoConfig.KEY_MOMENTUM_CONFIG, "0.99",
          MocoConfig.TEMPERATURE_CONFIG, "0.1",
          MocoConfig.WEIGHT_DECAY_CONFIG, "5e-4",
          MocoConfig.SYMMETRIC_CONFIG, "true",
          MocoConfig.LR_CONFIG, "0.06",
          MocoConfig.LR_WARMUP_STEPS_CONFIG, "20");

  @Test
  void everyKeyConstantIsDefinedOnceWithDocumentation() throws Exception {
    check(MocoConfig.class, MocoConfig.configDef());
    check(TrainerConfig.class, TrainerConfig.configDef());
    Set<String> overlap = new java.util.HashSet<>(MocoConfig.configDef().names());
    overlap.retainAll(TrainerConfig.configDef().names());
    assertTrue(overlap.isEmpty(), "defined twice: " + overlap);
    String table = TrainerConfig.describe();
    for (String key : MocoConfig.configDef().names()) {
      assertTrue(table.contains(key), key);
    }
    for (String key : TrainerConfig.configDef().names()) {
      assertTrue(table.contains(key), key);
    }
    assertTrue(table.contains("small-data: {moco.key.momentum=0.99"), table);
  }

  private static void check(Class<?> owner, ConfigDef def) throws IllegalAccessException {
    int constants = 0;
    for (Field f : owner.getFields()) {
      if (Modifier.isStatic(f.getModifiers())
          && f.getName().endsWith("_CONFIG")
          && f.getType() == String.class) {
        String key = (String) f.get(null);
        ConfigDef.ConfigKey k = def.configKeys().get(key);
        assertTrue(
            k != null,
            owner.getSimpleName() + "." + f.getName() + " = " + key + " has no definition");
        assertFalse(k.documentation == null || k.documentation.isBlank(), key + " is undocumented");
        constants++;
      }
    }
    assertEquals(
        def.names().size(),
        constants,
        "a definition without its constant in " + owner.getSimpleName());
  }

  @Test
  void defaultsAreMocoV2AsBefore() {
    MocoConfig parsed = MocoConfig.fromProperties(Map.of());
    assertEquals(MocoConfig.builder(Architecture.resnet18Cifar()).build(), parsed);
    assertEquals(65536, parsed.queueSize());
    assertEquals(0.999f, parsed.keyMomentum());
    assertEquals(0.2f, parsed.temperature());
    assertEquals(1e-4f, parsed.weightDecay());
    assertEquals(LearningRate.warmupConstant(0.03f, 500), parsed.learningRate());
    assertEquals(MocoConfig.Preset.DEFAULT, MocoConfig.Preset.of("Default"));
    assertEquals(parsed, MocoConfig.fromProperties(Map.of(MocoConfig.PRESET_CONFIG, "default")));
  }

  @Test
  void smallDataPresetIsTheDemosSettingsAndKeysThatAreSetWin() {
    MocoConfig preset = MocoConfig.fromProperties(Map.of(MocoConfig.PRESET_CONFIG, "small-data"));
    assertEquals(MocoConfig.fromProperties(DEMO_KEYS), preset);
    assertEquals(4096, preset.queueSize());
    assertTrue(preset.symmetric());
    assertEquals(LearningRate.warmupConstant(0.06f, 20), preset.learningRate());
    assertEquals(
        preset,
        MocoConfig.builder(Architecture.resnet18Cifar())
            .preset(MocoConfig.Preset.SMALL_DATA)
            .build());

    // What LearnsOnFashionMnistTest and MocoSoak built with the former Builder.smallData() and
    // their overrides.
    Architecture arch = Architecture.resnet18Narrow(1, 28);
    MocoConfig former =
        MocoConfig.builder(arch)
            .queueSize(4096)
            .keyMomentum(0.99f)
            .temperature(0.1f)
            .weightDecay(5e-4f)
            .learningRate(LearningRate.warmupConstant(0.03f, 500))
            .lrScaling(MocoConfig.LrScaling.LINEAR)
            .shuffleBnGroups(8)
            .queueSize(1024)
            .symmetric(true)
            .learningRate(LearningRate.warmupConstant(0.06f, 20))
            .seed(1)
            .build();
    assertEquals(
        former,
        MocoConfig.builder(arch)
            .preset(MocoConfig.Preset.SMALL_DATA)
            .shuffleBnGroups(8)
            .queueSize(1024)
            .seed(1)
            .build());

    Map<String, String> over = new HashMap<>(Map.of(MocoConfig.PRESET_CONFIG, "small-data"));
    over.put(MocoConfig.QUEUE_SIZE_CONFIG, "1024");
    over.put(MocoConfig.SYMMETRIC_CONFIG, "false");
    MocoConfig c = MocoConfig.fromProperties(over);
    assertEquals(1024, c.queueSize());
    assertFalse(c.symmetric());
    assertEquals(0.99f, c.keyMomentum());
  }

  @Test
  void aPresetKeepsTheFingerprintOfTheKeysItStandsFor() {
    Map<String, String> typed = new HashMap<>(DEMO_KEYS);
    typed.put(TrainerConfig.MODEL_NAME_CONFIG, "m");
    Map<String, String> named =
        Map.of(TrainerConfig.MODEL_NAME_CONFIG, "m", MocoConfig.PRESET_CONFIG, "small-data");
    TrainerConfig a = TrainerConfig.of(typed);
    TrainerConfig b = TrainerConfig.of(named);
    assertEquals(a.fingerprint(), b.fingerprint());
    assertEquals(a.moco(), b.moco());
    assertTrue(b.sameComputation(a.computeJson()));
    // And a configuration with no settings has the compute keys it always had.
    assertEquals(
        Set.of(
            MocoConfig.ARCHITECTURE_CONFIG,
            TrainerConfig.AUGMENT_CONFIG,
            TrainerConfig.MAX_BYTES_CONFIG,
            TrainerConfig.MAX_PIXELS_CONFIG,
            TrainerConfig.DECODE_BUDGET_CONFIG),
        TrainerConfig.of(Map.of(TrainerConfig.MODEL_NAME_CONFIG, "m"))
            .computeProperties()
            .keySet());
  }

  @Test
  void badValuesAreRefusedNamingKeyAndValue() {
    refused(Map.of(MocoConfig.QUEUE_SIZE_CONFIG, "0"), MocoConfig.QUEUE_SIZE_CONFIG, "0");
    refused(Map.of(MocoConfig.QUEUE_SIZE_CONFIG, "many"), MocoConfig.QUEUE_SIZE_CONFIG, "many");
    refused(Map.of(MocoConfig.KEY_MOMENTUM_CONFIG, "1.5"), MocoConfig.KEY_MOMENTUM_CONFIG, "1.5");
    refused(Map.of(MocoConfig.KEY_MOMENTUM_CONFIG, "NaN"), MocoConfig.KEY_MOMENTUM_CONFIG, "NaN");
    refused(Map.of(MocoConfig.SGD_MOMENTUM_CONFIG, "1"), MocoConfig.SGD_MOMENTUM_CONFIG, "1");
    refused(Map.of(MocoConfig.TEMPERATURE_CONFIG, "0"), MocoConfig.TEMPERATURE_CONFIG, "0");
    refused(Map.of(MocoConfig.LR_SCALING_CONFIG, "fast"), MocoConfig.LR_SCALING_CONFIG, "fast");
    refused(Map.of(MocoConfig.SYMMETRIC_CONFIG, "yes"), MocoConfig.SYMMETRIC_CONFIG, "yes");
    refused(Map.of(MocoConfig.ARCHITECTURE_CONFIG, "vgg"), MocoConfig.ARCHITECTURE_CONFIG, "vgg");
    refused(Map.of(MocoConfig.PRESET_CONFIG, "huge"), MocoConfig.PRESET_CONFIG, "huge");
    refused(Map.of("moco.queue.length", "5"), "moco.queue.length", "unknown");
    refused(
        Map.of(MocoConfig.LR_SCHEDULE_CONFIG, "cosine"),
        MocoConfig.LR_TOTAL_STEPS_CONFIG,
        "cosine");
    // the builder applies the same validators
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MocoConfig.builder(Architecture.resnet18Cifar()).keyMomentum(Float.NaN).build());
    assertTrue(e.getMessage().contains(MocoConfig.KEY_MOMENTUM_CONFIG), e.getMessage());

    Map<String, String> t = new HashMap<>(Map.of(TrainerConfig.MODEL_NAME_CONFIG, "m"));
    t.put(TrainerConfig.BATCH_SIZE_CONFIG, "x");
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.of(t));
    assertTrue(
        e.getMessage().contains(TrainerConfig.BATCH_SIZE_CONFIG) && e.getMessage().contains("x"),
        e.getMessage());
    t.put(TrainerConfig.BATCH_SIZE_CONFIG, "8");
    t.put(TrainerConfig.DEVICE_CONFIG, "tpu");
    e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.of(t));
    assertTrue(
        e.getMessage().contains(TrainerConfig.DEVICE_CONFIG) && e.getMessage().contains("tpu"),
        e.getMessage());
  }

  private static void refused(Map<String, String> props, String key, String value) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MocoConfig.fromProperties(props),
            props.toString());
    assertTrue(e.getMessage().contains(key) && e.getMessage().contains(value), e.getMessage());
  }
}
