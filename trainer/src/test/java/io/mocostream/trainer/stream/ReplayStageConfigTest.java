package io.mocostream.trainer.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The replay buffer's and the crop scale's configuration keys. */
class ReplayStageConfigTest {
  private static Map<String, String> base() {
    Map<String, String> s = new HashMap<>();
    s.put(TrainerConfig.MODEL_NAME_CONFIG, "m");
    return s;
  }

  @Test
  void bufferOffByDefaultAndOffKeepsTheFingerprint() {
    TrainerConfig plain = TrainerConfig.of(base());
    assertNull(ReplayStage.of(plain));
    Map<String, String> zero = base();
    zero.put(TrainerConfig.REPLAY_BUFFER_SIZE_CONFIG, "0");
    assertEquals(plain.fingerprint(), TrainerConfig.of(zero).fingerprint());
    Map<String, String> on = base();
    on.put(TrainerConfig.REPLAY_BUFFER_SIZE_CONFIG, "256");
    TrainerConfig buffered = TrainerConfig.of(on);
    assertNotEquals(plain.fingerprint(), buffered.fingerprint());
    assertTrue(buffered.computeJson().contains("\"replay.buffer.size\":\"256\""));
    assertEquals(256, ReplayStage.bufferSize(buffered));
  }

  @Test
  void badBufferSizesNameTheKey() {
    for (String bad : new String[] {"-1", "1", "lots"}) {
      Map<String, String> s = base();
      s.put(TrainerConfig.REPLAY_BUFFER_SIZE_CONFIG, bad);
      var e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.of(s));
      assertTrue(e.getMessage().contains("replay.buffer.size"), e.getMessage());
    }
  }

  @Test
  void cropScaleKey() {
    assertEquals(0.2, TrainerConfig.of(base()).augment().cropScaleMin(), 1e-9);
    Map<String, String> s = base();
    s.put(TrainerConfig.CROP_MIN_SCALE_CONFIG, "0.5");
    TrainerConfig c = TrainerConfig.of(s);
    assertEquals(0.5, c.augment().cropScaleMin(), 1e-9);
    assertEquals(1.0, c.augment().cropScaleMax(), 1e-9);
    assertFalse(c.fingerprint().equals(TrainerConfig.of(base()).fingerprint()));
    s.put(TrainerConfig.CROP_MIN_SCALE_CONFIG, "1.5");
    var e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.of(s));
    assertTrue(e.getMessage().contains("augment.crop.min.scale"), e.getMessage());
  }

  @Test
  void blurProbabilityKey() {
    assertEquals(0.5, TrainerConfig.of(base()).augment().blurP(), 1e-9);
    Map<String, String> s = base();
    s.put(TrainerConfig.BLUR_PROBABILITY_CONFIG, "0");
    TrainerConfig c = TrainerConfig.of(s);
    assertEquals(0.0, c.augment().blurP(), 1e-9);
    assertFalse(c.fingerprint().equals(TrainerConfig.of(base()).fingerprint()));
    s.put(TrainerConfig.BLUR_PROBABILITY_CONFIG, "-0.1");
    var e = assertThrows(IllegalArgumentException.class, () -> TrainerConfig.of(s));
    assertTrue(e.getMessage().contains("augment.blur.probability"), e.getMessage());
  }
}
