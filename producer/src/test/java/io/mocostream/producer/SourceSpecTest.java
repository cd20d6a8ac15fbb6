package io.mocostream.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SourceSpecTest {

  @Test
  void parsesEveryKind() {
    assertEquals(new SourceSpec.Dir(Path.of("/data/in")), SourceSpec.parse("dir:/data/in"));
    assertEquals(new SourceSpec.Idx(Path.of("a.gz"), null), SourceSpec.parse("idx:a.gz"));
    assertEquals(
        new SourceSpec.Idx(Path.of("a.gz"), Path.of("b.gz")), SourceSpec.parse("idx:a.gz,b.gz"));
    assertEquals(new SourceSpec.Synthetic(10), SourceSpec.parse("synthetic"));
    assertEquals(new SourceSpec.Synthetic(3), SourceSpec.parse("synthetic:3"));
    assertEquals(new SourceSpec.Http("127.0.0.1", 8080), SourceSpec.parse("http:8080"));
    assertEquals(new SourceSpec.Http("127.0.0.1", 0), SourceSpec.parse("http:127.0.0.1:0"));
    assertEquals(new SourceSpec.Dir(Path.of("C:/x")), SourceSpec.parse("dir:C:/x"));
  }

  private static String bad(String spec) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SourceSpec.parse(spec));
    assertTrue(e.getMessage().contains("'" + spec + "'"), e.getMessage());
    assertTrue(e.getMessage().contains(SourceSpec.USAGE), e.getMessage());
    return e.getMessage();
  }

  @Test
  void badSpecsNameTheProblem() {
    assertTrue(bad("ftp:x").contains("unknown source kind 'ftp'"));
    assertTrue(bad("dir:").contains("folder path"));
    assertTrue(bad("dir").contains("folder path"));
    assertTrue(bad("idx:a,b,c").contains("IMAGES,LABELS"));
    assertTrue(bad("idx:a,").contains("IMAGES,LABELS"));
    assertTrue(bad("synthetic:ten").contains("'ten' is not a number"));
    assertTrue(bad("synthetic:0").contains("1..1000000"));
    assertTrue(bad("http:").contains("needs a port"));
    assertTrue(bad("http:99999").contains("0..65535"));
    assertTrue(bad("http::80").contains("host"));
    assertTrue(bad("").contains("unknown source kind ''"));
  }

  @Test
  void defaultSourceIds() {
    assertEquals("in", ProduceCommand.defaultSourceId(SourceSpec.parse("dir:/data/in/")));
    assertEquals(
        "t10k-images-idx3-ubyte",
        ProduceCommand.defaultSourceId(SourceSpec.parse("idx:/x/t10k-images-idx3-ubyte.gz")));
    assertEquals("synthetic", ProduceCommand.defaultSourceId(SourceSpec.parse("synthetic:4")));
    assertEquals("upload", ProduceCommand.defaultSourceId(SourceSpec.parse("http:1")));
  }

  @Test
  void optionsRejectNonsense() {
    ProduceOptions o = ProduceOptions.of("b:1", "http://r", "synthetic");
    assertThrows(IllegalArgumentException.class, () -> o.withRate(-1));
    assertThrows(IllegalArgumentException.class, () -> o.withRate(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> o.withMax(-5));
    assertThrows(IllegalArgumentException.class, () -> o.withTopic(" "));
    assertEquals("frames.raw", o.topic());
    assertEquals(7, o.withMax(7).withRate(3).max());
  }
}
