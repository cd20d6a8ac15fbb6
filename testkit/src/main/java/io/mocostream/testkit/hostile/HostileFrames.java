package io.mocostream.testkit.hostile;

import io.mocostream.registry.client.SchemaRegistryClient;
import io.mocostream.schemas.ContentType;
import io.mocostream.schemas.Embedding;
import io.mocostream.schemas.ImageFrame;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * The hostile-input suite's cases: record values a frames topic may carry, each with the outcome
 * the frame contract promises for it. Wire-level garbage (empty, tombstone, short, wrong magic,
 * unknown or foreign schema ids, truncated and corrupt Avro), valid {@link ImageFrame} records with
 * bad content (random and truncated images, header bombs, bad PNG colour types and bit depths,
 * hostile BMP headers, lying raw dimensions, foreign file formats under an image type), and valid
 * but unusual images that must be accepted.
 *
 * <p>Values are in Confluent's wire format (magic 0, 4-byte big-endian schema id, Avro binary) with
 * the ids the caller's registry gave ({@link SchemaIds#register}), so they are read exactly as a
 * producer's records would be. Every case is a pure function of the seed and the ids: the same list
 * each run. Expected reasons are the names of {@code io.mocostream.frames.Reason} (this module
 * cannot depend on the frames module, whose tests use it).
 */
public final class HostileFrames {
  /** The expected outcome of a frame the contract must accept. */
  public static final String ACCEPTED = "ACCEPTED";

  /** The seed the suites use. */
  public static final long DEFAULT_SEED = 0x5EEDF00DL;

  private HostileFrames() {}

  /** The registry ids the cases are written with. */
  public record SchemaIds(int imageFrame, int otherRecord, int nullArray) {
    /**
     * A schema anyone allowed to register could: a record of one {@code array<null>}, whose items
     * take no bytes.
     */
    public static final Schema NULL_ARRAY =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":"
                    + "\"HostileNullArray\",\"namespace\":\"io.mocostream.testkit.hostile\",\"fields\":[{\"name\":"
                    + "\"items\",\"type\":{\"type\":\"array\",\"items\":\"null\"}}]}");

    /**
     * Registers {@link ImageFrame} under {@code topic}'s value subject (as a producer's serializer
     * would), {@link Embedding}, another record type, under {@code otherSubject}, and {@link
     * #NULL_ARRAY} under {@code otherSubject + "-null-array"}.
     */
    public static SchemaIds register(
        SchemaRegistryClient client, String topic, String otherSubject) {
      return new SchemaIds(
          client.register(topic + "-value", ImageFrame.getClassSchema()),
          client.register(otherSubject, Embedding.getClassSchema()),
          client.register(otherSubject + "-null-array", NULL_ARRAY));
    }
  }

  /**
   * One case.
   *
   * @param name unique, stable: {@code category/what}
   * @param category wire, avro, content, header, raw, foreign, empty or accepted
   * @param key the record key (some are not UTF-8, to check dead letters keep keys byte for byte)
   * @param value the record value; null is a tombstone
   * @param expected {@link #ACCEPTED}, or the reason names a refusal may carry (one, except for
   *     random bytes behind a valid magic, where which check trips first is the random data's
   *     choice)
   */
  public record Case(String name, String category, byte[] key, byte[] value, Set<String> expected) {
    public boolean accepted() {
      return expected.contains(ACCEPTED);
    }

    @Override
    public String toString() {
      return name + " -> " + expected;
    }
  }

  /** All cases, deterministic for {@code seed} and {@code ids}. */
  public static List<Case> cases(SchemaIds ids, long seed) {
    return new Builder(ids, seed).build();
  }

  private static final class Builder {
    private final SchemaIds ids;
    private final Random random;
    private final List<Case> cases = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private long sequence;

    Builder(SchemaIds ids, long seed) {
      this.ids = ids;
      this.random = new Random(seed);
    }

    List<Case> build() {
      wireCases();
      avroCases();
      emptyCases();
      contentCases();
      headersCases();
      rawCases();
      foreignCases();
      acceptedCases();
      return List.copyOf(cases);
    }

    private void add(String category, String name, byte[] value, String... expected) {
      String full = category + "/" + name;
      if (!names.add(full)) {
        throw new IllegalStateException("duplicate case name " + full);
      }
      byte[] key =
          (cases.size() % 7 == 3)
              // not UTF-8: a dead letter must carry these bytes, not a decoded and re-encoded
              // string
              ? concat(
                  new byte[] {(byte) 0xFF, (byte) 0xFE, 0, (byte) 0xC3},
                  full.getBytes(StandardCharsets.UTF_8))
              : full.getBytes(StandardCharsets.UTF_8);
      cases.add(new Case(full, category, key, value, Set.of(expected)));
    }

    // ---- wire level
    // --------------------------------------------------------------------------------------------

    private void wireCases() {
      add("wire", "empty", new byte[0], "EMPTY");
      add("wire", "tombstone", null, "EMPTY");
      add("wire", "one-byte-0", new byte[] {0}, "DESERIALIZE");
      add("wire", "one-byte-ff", new byte[] {(byte) 0xFF}, "DESERIALIZE");
      add("wire", "magic-and-2-id-bytes", new byte[] {0, 0, 0}, "DESERIALIZE");
      add("wire", "header-only-no-body", wireHeader(ids.imageFrame), "DESERIALIZE");
      add("wire", "hello", "hello".getBytes(StandardCharsets.US_ASCII), "DESERIALIZE");
      byte[] body = frameBody(frame("wire", ContentType.PNG, png(rgb(4, 4)), null, null));
      for (int magic : new int[] {1, 2, 0x7F, 0x80, 0xFF, 'h', '{'}) {
        byte[] v = wire(ids.imageFrame, body);
        v[0] = (byte) magic;
        add("wire", "wrong-magic-" + Integer.toHexString(magic), v, "DESERIALIZE");
      }
      for (int id : new int[] {0, 999_983, 0x7FFFFFFF, -1, 0x80000000}) {
        add(
            "wire",
            "unknown-schema-id-" + Integer.toUnsignedString(id),
            wire(id, body),
            "DESERIALIZE");
      }
      add(
          "wire",
          "other-record-type",
          wire(ids.otherRecord, embeddingBody()),
          "NOT_AN_IMAGE_FRAME");
      add("wire", "image-frame-body-under-other-id", wire(ids.otherRecord, body), "DESERIALIZE");
      add(
          "wire",
          "trailing-garbage",
          wire(ids.imageFrame, concat(body, new byte[] {1, 2, 3})),
          "DESERIALIZE");
      for (int i = 0; i < 12; i++) {
        byte[] r = randomBytes(1 + random.nextInt(i < 6 ? 64 : 4096));
        if (r[0] == 0) {
          r[0] =
              1; // not the wire format's magic: the outcome must not depend on which id the bytes
          // name
        }
        add("wire", "random-" + i, r, "DESERIALIZE");
      }
      // A valid header and random body: the bytes decide where Avro stops, or which content check
      // refuses them.
      for (int i = 0; i < 8; i++) {
        add(
            "wire",
            "random-body-" + i,
            wire(ids.imageFrame, randomBytes(8 + random.nextInt(512))),
            "DESERIALIZE",
            "UNSUPPORTED_TYPE",
            "EMPTY",
            "SIZE_MISMATCH",
            "TYPE_MISMATCH",
            "TOO_MANY_PIXELS",
            "UNDECODABLE");
      }
    }

    // ---- corrupt Avro bodies
    // -----------------------------------------------------------------------------------

    private void avroCases() {
      byte[] body = frameBody(frame("avro", ContentType.PNG, png(rgb(8, 6)), 8, 6));
      for (int i = 0; i < 20; i++) {
        int at = (int) ((long) body.length * i / 20); // 0 .. 95% of the body
        add(
            "avro",
            "truncated-at-" + at + "-of-" + body.length,
            wire(ids.imageFrame, Arrays.copyOf(body, at)),
            "DESERIALIZE");
      }
      Enc e;
      for (long len :
          new long[] {Integer.MAX_VALUE, 1L << 40, Long.MAX_VALUE, -1, -1000, 1_000_000}) {
        e = new Enc();
        e.rawLong(len); // sourceId length
        e.raw(new byte[] {'c', 'a', 'm'});
        add("avro", "string-length-" + len, wire(ids.imageFrame, e.bytes()), "DESERIALIZE");
      }
      for (long len : new long[] {Integer.MAX_VALUE, 1L << 40, Long.MAX_VALUE, -1, -7, 4_000_000}) {
        e = framePrefix("cam", ContentType.PNG.ordinal());
        e.rawLong(len); // data length
        e.raw(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        add("avro", "bytes-length-" + len, wire(ids.imageFrame, e.bytes()), "DESERIALIZE");
      }
      for (long count : new long[] {Integer.MAX_VALUE, 1L << 40, Long.MAX_VALUE, 1_000_000}) {
        e = frameUpToAttributes();
        e.rawLong(count); // map block count
        e.raw(new byte[] {2, 'k', 2, 'v', 0});
        add("avro", "map-count-" + count, wire(ids.imageFrame, e.bytes()), "DESERIALIZE");
      }
      for (long count : new long[] {-Integer.MAX_VALUE, Long.MIN_VALUE + 1}) {
        e = frameUpToAttributes();
        e.rawLong(count); // a negative count is followed by the block's byte size
        e.rawLong(Long.MAX_VALUE);
        e.raw(new byte[] {2, 'k', 2, 'v', 0});
        add("avro", "map-negative-count-" + count, wire(ids.imageFrame, e.bytes()), "DESERIALIZE");
      }
      // The other record type's float array, claiming more elements than bytes.
      for (long count : new long[] {Integer.MAX_VALUE, 1L << 40, Long.MAX_VALUE}) {
        e = new Enc();
        e.string("resnet");
        e.rawLong(1);
        e.rawLong(count);
        e.raw(new byte[16]);
        add("avro", "array-count-" + count, wire(ids.otherRecord, e.bytes()), "DESERIALIZE");
      }
      // array<null>: each item takes no bytes, so a count in a few bytes is billions of items to
      // read (or skip).
      for (long count : new long[] {1L << 62, Long.MAX_VALUE, 2_147_483_000L, 3}) {
        e = new Enc();
        e.rawLong(count);
        e.rawLong(0);
        add("avro", "null-array-count-" + count, wire(ids.nullArray, e.bytes()), "DESERIALIZE");
      }
      for (int index : new int[] {6, 7, 100, -1, Integer.MAX_VALUE}) {
        e = framePrefix("cam", index);
        e.bytesField(png(rgb(2, 2)));
        e.rawLong(0);
        e.rawLong(0);
        e.rawLong(0);
        e.rawLong(0);
        add("avro", "enum-index-" + index, wire(ids.imageFrame, e.bytes()), "DESERIALIZE");
      }
      for (int index : new int[] {2, 3, -1, 1000}) {
        e = framePrefix("cam", ContentType.PNG.ordinal());
        e.bytesField(png(rgb(2, 2)));
        e.rawLong(index); // width's union branch
        e.rawLong(2);
        e.rawLong(0);
        e.rawLong(0);
        e.rawLong(0);
        add("avro", "union-index-" + index, wire(ids.imageFrame, e.bytes()), "DESERIALIZE");
      }
      e = new Enc();
      e.rawLong(4);
      e.raw(
          new byte[] {
            (byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE
          }); // invalid UTF-8 source id
      e.rawLong(0);
      e.rawLong(0);
      e.rawLong(ContentType.PNG.ordinal());
      e.bytesField(png(rgb(3, 3)));
      e.rawLong(0);
      e.rawLong(0);
      e.rawLong(0);
      e.rawLong(0);
      // Avro replaces invalid UTF-8 rather than failing: a frame with an odd source id is still a
      // frame.
      add("avro", "invalid-utf8-source-id", wire(ids.imageFrame, e.bytes()), ACCEPTED);
    }

    // ---- empty payloads
    // ----------------------------------------------------------------------------------------

    private void emptyCases() {
      for (ContentType t : ContentType.values()) {
        boolean raw = t == ContentType.RAW_GREY || t == ContentType.RAW_RGB;
        add(
            "empty",
            "data-" + t,
            frameValue(frame("empty", t, new byte[0], raw ? 4 : null, raw ? 4 : null)),
            "EMPTY");
      }
    }

    // ---- bad image content
    // -------------------------------------------------------------------------------------

    private void contentCases() {
      Map<ContentType, byte[]> valid =
          Map.of(
              ContentType.PNG, png(rgb(32, 24)),
              ContentType.JPEG, jpeg(rgb(32, 24), false),
              ContentType.GIF, gif(indexed(32, 24)),
              ContentType.BMP, bmp(bgr(32, 24)));
      for (ContentType t :
          List.of(ContentType.PNG, ContentType.JPEG, ContentType.GIF, ContentType.BMP)) {
        byte[] image = valid.get(t);
        int magic =
            switch (t) {
              case PNG -> 8;
              case JPEG -> 3;
              case GIF -> 6;
              default -> 26;
            };
        for (int i = 0; i < 6; i++) {
          byte[] r = randomBytes(16 + random.nextInt(2048));
          r[0] =
              (byte) ('a' + random.nextInt(26)); // no image magic starts with a lower-case letter
          add(
              "content",
              t + "-random-" + i,
              frameValue(frame("content", t, r, null, null)),
              "UNSUPPORTED_TYPE");
        }
        for (int i = 0; i < 4; i++) {
          byte[] r = concat(Arrays.copyOf(image, magic), randomBytes(32 + random.nextInt(1024)));
          add(
              "content",
              t + "-magic-then-random-" + i,
              frameValue(frame("content", t, r, null, null)),
              "UNDECODABLE",
              "TOO_MANY_PIXELS",
              "UNSUPPORTED_TYPE");
        }
        for (int i = 1; i <= 8; i++) {
          int at = (int) ((long) image.length * i / 9);
          String expected = at < magic ? "UNSUPPORTED_TYPE" : "UNDECODABLE";
          add(
              "content",
              t + "-truncated-at-" + at + "-of-" + image.length,
              frameValue(frame("content", t, Arrays.copyOf(image, at), null, null)),
              expected);
        }
        for (ContentType other :
            List.of(ContentType.PNG, ContentType.JPEG, ContentType.GIF, ContentType.BMP)) {
          if (other != t) {
            add(
                "content",
                valid.get(other).length + "-byte-" + other + "-declared-" + t,
                frameValue(frame("content", t, valid.get(other), null, null)),
                "TYPE_MISMATCH");
          }
        }
        add(
            "content",
            t + "-declared-size-lies",
            frameValue(frame("content", t, image, 33, 24)),
            "SIZE_MISMATCH");
        add(
            "content",
            t + "-declared-size-negative",
            frameValue(frame("content", t, image, -32, -24)),
            "SIZE_MISMATCH");
      }
      // Over the trainer's producer default request size (4 MiB): its dead letter must still go
      // through.
      add(
          "content",
          "PNG-magic-then-5MiB-random",
          frameValue(
              frame(
                  "content",
                  ContentType.PNG,
                  concat(Arrays.copyOf(valid.get(ContentType.PNG), 8), randomBytes(5 << 20)),
                  null,
                  null)),
          "UNDECODABLE",
          "TOO_MANY_PIXELS",
          "UNSUPPORTED_TYPE");
      // A JPEG whose entropy-coded data is overwritten: decodable headers, garbage scan.
      byte[] j = jpeg(rgb(64, 64), false).clone();
      int sos = indexOf(j, new byte[] {(byte) 0xFF, (byte) 0xDA});
      add(
          "content",
          "JPEG-no-EOI",
          frameValue(
              frame("content", ContentType.JPEG, Arrays.copyOf(j, j.length - 2), null, null)),
          "UNDECODABLE");
      for (int k = sos + 20; k < j.length - 2; k++) {
        j[k] = (byte) 0xFF;
      }
      add(
          "content",
          "JPEG-scan-all-ff",
          frameValue(frame("content", ContentType.JPEG, j, null, null)),
          "UNDECODABLE");
    }

    // ---- hostile headers
    // ---------------------------------------------------------------------------------------

    private void headersCases() {
      for (int[] wh :
          new int[][] {
            {100_000, 100_000},
            {65_535, 65_535},
            {1, 50_000_000},
            {50_000_000, 1},
            {0x7FFFFFFF, 0x7FFFFFFF}
          }) {
        byte[] p = pngRaw(wh[0], wh[1], 8, 0, 0, deflate(new byte[16]));
        add(
            "header",
            "PNG-" + wh[0] + "x" + wh[1],
            frameValue(frame("header", ContentType.PNG, p, null, null)),
            "TOO_MANY_PIXELS");
      }
      add(
          "header",
          "PNG-0x0",
          frameValue(
              frame(
                  "header",
                  ContentType.PNG,
                  pngRaw(0, 0, 8, 0, 0, deflate(new byte[1])),
                  null,
                  null)),
          "UNDECODABLE");
      add(
          "header",
          "PNG-20000x20000-deflate-bomb",
          frameValue(frame("header", ContentType.PNG, pngBomb(), null, null)),
          "TOO_MANY_PIXELS");
      // Colour type / bit depth combinations the PNG specification forbids.
      int[][] bad = {
        {0, 3}, {0, 32}, {2, 1}, {2, 4}, {2, 7}, {3, 16}, {3, 12}, {4, 1}, {4, 4}, {6, 2}, {1, 8},
        {5, 8}, {7, 8}, {255, 8}, {0, 0}
      };
      for (int[] cd : bad) {
        byte[] p = pngRaw(4, 4, cd[1], cd[0], 0, deflate(new byte[4 * (1 + 4 * 8)]));
        add(
            "header",
            "PNG-colour-type-" + cd[0] + "-depth-" + cd[1],
            frameValue(frame("header", ContentType.PNG, p, null, null)),
            "UNDECODABLE");
      }
      add(
          "header",
          "PNG-interlace-method-2",
          frameValue(
              frame(
                  "header",
                  ContentType.PNG,
                  pngRaw(4, 4, 8, 0, 2, deflate(new byte[4 * 5])),
                  null,
                  null)),
          "UNDECODABLE");
      byte[] smallJpeg = jpeg(rgb(16, 16), false);
      for (int[] wh : new int[][] {{65_500, 65_500}, {65_500, 1000}, {8000, 8000}}) {
        add(
            "header",
            "JPEG-" + wh[0] + "x" + wh[1],
            frameValue(
                frame(
                    "header",
                    ContentType.JPEG,
                    patchJpegSize(smallJpeg, wh[0], wh[1]),
                    null,
                    null)),
            "TOO_MANY_PIXELS");
      }
      // Over libjpeg's 65500 a side: its header parser refuses before the limit is asked.
      for (int[] wh : new int[][] {{65_535, 65_535}, {65_535, 1000}}) {
        add(
            "header",
            "JPEG-" + wh[0] + "x" + wh[1],
            frameValue(
                frame(
                    "header",
                    ContentType.JPEG,
                    patchJpegSize(smallJpeg, wh[0], wh[1]),
                    null,
                    null)),
            "UNDECODABLE");
      }
      byte[] smallGif = gif(indexed(16, 16));
      for (int[] wh : new int[][] {{65_535, 65_535}, {65_535, 1000}, {8000, 8000}}) {
        add(
            "header",
            "GIF-" + wh[0] + "x" + wh[1],
            frameValue(
                frame("header", ContentType.GIF, patchGifSize(smallGif, wh[0], wh[1]), null, null)),
            "TOO_MANY_PIXELS");
      }
      byte[] pixels = new byte[4 * 4 * 3];
      for (int[] wh : new int[][] {{100_000, 100_000}, {65_535, 65_535}, {0x7FFFFFFF, 1}}) {
        add(
            "header",
            "BMP-" + wh[0] + "x" + wh[1],
            frameValue(
                frame(
                    "header", ContentType.BMP, bmpRaw(wh[0], wh[1], 24, 0, 0, pixels), null, null)),
            "TOO_MANY_PIXELS");
      }
      byte[] embeddedJpeg = jpeg(rgb(4, 4), false);
      byte[] embeddedPng = png(rgb(4, 4));
      add(
          "header",
          "BMP-embedded-JPEG",
          frameValue(
              frame(
                  "header",
                  ContentType.BMP,
                  bmpRaw(4, 4, 0, 4, embeddedJpeg.length, embeddedJpeg),
                  null,
                  null)),
          "UNSUPPORTED_TYPE");
      add(
          "header",
          "BMP-embedded-PNG",
          frameValue(
              frame(
                  "header",
                  ContentType.BMP,
                  bmpRaw(4, 4, 0, 5, embeddedPng.length, embeddedPng),
                  null,
                  null)),
          "UNSUPPORTED_TYPE");
      add(
          "header",
          "BMP-embedded-JPEG-2GiB-sizeImage",
          frameValue(
              frame(
                  "header",
                  ContentType.BMP,
                  bmpRaw(4, 4, 0, 4, 0x7FFFFFF0L, embeddedJpeg),
                  null,
                  null)),
          "UNSUPPORTED_TYPE");
      add(
          "header",
          "BMP-RLE8-2GiB-sizeImage",
          frameValue(
              frame(
                  "header",
                  ContentType.BMP,
                  bmpRaw(4, 4, 8, 1, 0x7FFFFFF0L, new byte[64]),
                  null,
                  null)),
          "UNDECODABLE");
      add(
          "header",
          "BMP-RGB-2GiB-sizeImage",
          frameValue(
              frame(
                  "header", ContentType.BMP, bmpRaw(4, 4, 24, 0, 0x80000000L, pixels), null, null)),
          "UNDECODABLE");
      add(
          "header",
          "BMP-RGB-4GiB-sizeImage",
          frameValue(
              frame(
                  "header", ContentType.BMP, bmpRaw(4, 4, 24, 0, 0xFFFFFFFFL, pixels), null, null)),
          "UNDECODABLE");
      for (int bpp : new int[] {0, 3, 7, 64}) {
        add(
            "header",
            "BMP-bits-per-pixel-" + bpp,
            frameValue(
                frame("header", ContentType.BMP, bmpRaw(4, 4, bpp, 0, 0, pixels), null, null)),
            "UNDECODABLE");
      }
      add(
          "header",
          "BMP-compression-99",
          frameValue(frame("header", ContentType.BMP, bmpRaw(4, 4, 24, 99, 0, pixels), null, null)),
          "UNDECODABLE");
      add(
          "header",
          "BMP-0x0",
          frameValue(frame("header", ContentType.BMP, bmpRaw(0, 0, 24, 0, 0, pixels), null, null)),
          "UNDECODABLE");
    }

    // ---- raw pixels
    // --------------------------------------------------------------------------------------------

    private void rawCases() {
      for (ContentType t : List.of(ContentType.RAW_GREY, ContentType.RAW_RGB)) {
        int c = t == ContentType.RAW_GREY ? 1 : 3;
        byte[] px = randomBytes(8 * 6 * c);
        add(
            "raw",
            t + "-no-dimensions",
            frameValue(frame("raw", t, px, null, null)),
            "SIZE_MISMATCH");
        add("raw", t + "-no-height", frameValue(frame("raw", t, px, 8, null)), "SIZE_MISMATCH");
        add("raw", t + "-no-width", frameValue(frame("raw", t, px, null, 6)), "SIZE_MISMATCH");
        add("raw", t + "-lying-larger", frameValue(frame("raw", t, px, 16, 12)), "SIZE_MISMATCH");
        add("raw", t + "-lying-smaller", frameValue(frame("raw", t, px, 4, 6)), "SIZE_MISMATCH");
        add(
            "raw",
            t + "-lying-one-byte-short",
            frameValue(frame("raw", t, Arrays.copyOf(px, px.length - 1), 8, 6)),
            "SIZE_MISMATCH");
        add(
            "raw",
            t + "-transposed-but-same-count",
            frameValue(frame("raw", t, px, 6, 8)),
            ACCEPTED);
        add("raw", t + "-negative-width", frameValue(frame("raw", t, px, -8, 6)), "SIZE_MISMATCH");
        add("raw", t + "-negative-both", frameValue(frame("raw", t, px, -8, -6)), "SIZE_MISMATCH");
        add("raw", t + "-zero-height", frameValue(frame("raw", t, px, 8, 0)), "SIZE_MISMATCH");
        add(
            "raw",
            t + "-min-int",
            frameValue(frame("raw", t, px, Integer.MIN_VALUE, 6)),
            "SIZE_MISMATCH");
        // width × height × channels overflows an int: caught as too many pixels, not wrapped round
        // to a small size
        add(
            "raw",
            t + "-overflow-65536x65536",
            frameValue(frame("raw", t, px, 65_536, 65_536)),
            "TOO_MANY_PIXELS");
        add(
            "raw",
            t + "-overflow-max-int",
            frameValue(frame("raw", t, px, Integer.MAX_VALUE, Integer.MAX_VALUE)),
            "TOO_MANY_PIXELS");
        add(
            "raw",
            t + "-overflow-wraps",
            frameValue(frame("raw", t, px, 0x40000001, 48)),
            "TOO_MANY_PIXELS");
        add(
            "raw",
            t + "-just-over-40Mpx",
            frameValue(frame("raw", t, px, 40_000_001, 1)),
            "TOO_MANY_PIXELS");
      }
    }

    // ---- other file formats under an image type
    // ----------------------------------------------------------------

    private void foreignCases() {
      Map<String, byte[]> files =
          Map.of(
              "text",
                  "Hello, camera feed.\nThis is not an image.\n".getBytes(StandardCharsets.UTF_8),
              "pdf",
                  "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
                      .getBytes(StandardCharsets.US_ASCII),
              "zip", concat(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0}, randomBytes(200)),
              "elf", concat(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1, 0}, new byte[120]),
              "json",
                  "{\"sourceId\":\"cam-1\",\"data\":\"iVBORw0KGgo=\"}"
                      .getBytes(StandardCharsets.UTF_8),
              "html",
                  "<!doctype html><html><body><img src=x></body></html>"
                      .getBytes(StandardCharsets.UTF_8),
              "webp",
                  concat(
                      "RIFF\u0024\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1),
                      new byte[40]),
              "tiff", concat(new byte[] {'I', 'I', 42, 0, 8, 0, 0, 0}, new byte[60]));
      for (String kind : new java.util.TreeSet<>(files.keySet())) {
        for (ContentType t :
            List.of(ContentType.PNG, ContentType.JPEG, ContentType.GIF, ContentType.BMP)) {
          add(
              "foreign",
              kind + "-as-" + t,
              frameValue(frame("foreign", t, files.get(kind), null, null)),
              "UNSUPPORTED_TYPE");
        }
      }
      // A BMP that is "BM" and nothing else of one.
      add(
          "foreign",
          "BM-text-as-BMP",
          frameValue(
              frame(
                  "foreign",
                  ContentType.BMP,
                  "BM is how this text starts, and nothing in it is a bitmap header."
                      .getBytes(StandardCharsets.US_ASCII),
                  null,
                  null)),
          "UNDECODABLE");
    }

    // ---- valid but unusual
    // ---------------------------------------------------------------------------------------

    private void acceptedCases() {
      accept("PNG-palette", ContentType.PNG, png(indexed(20, 10)));
      accept("PNG-16-bit-grey", ContentType.PNG, png(grey16(17, 9)));
      accept("PNG-grey-alpha", ContentType.PNG, png(greyAlpha(12, 12)));
      accept("PNG-rgba", ContentType.PNG, png(argb(15, 11)));
      accept("PNG-interlaced-rgb", ContentType.PNG, pngInterlaced(rgb(33, 17)));
      accept("PNG-interlaced-grey", ContentType.PNG, pngInterlaced(grey(31, 19)));
      accept(
          "PNG-1-bit-grey",
          ContentType.PNG,
          pngRaw(16, 2, 1, 0, 0, deflate(new byte[] {0, (byte) 0xF0, 0x0F, 0, (byte) 0xAA, 0x55})));
      accept("PNG-grey-8", ContentType.PNG, png(grey(9, 9)));
      accept("PNG-1x1", ContentType.PNG, png(rgb(1, 1)));
      accept("PNG-4000x1", ContentType.PNG, png(rgb(4000, 1)));
      accept("PNG-6000x6000-zeros-subsampled", ContentType.PNG, pngZeros(6000, 6000));
      accept("BMP-24-bit", ContentType.BMP, bmp(bgr(13, 7)));
      accept("BMP-24-bit-top-down", ContentType.BMP, bmpTopDown(5, 3));
      accept("BMP-8-bit-palette", ContentType.BMP, bmp(indexed(10, 6)));
      accept("GIF", ContentType.GIF, gif(indexed(21, 13)));
      accept("GIF-1x1", ContentType.GIF, gif(indexed(1, 1)));
      accept("JPEG-baseline", ContentType.JPEG, jpeg(rgb(40, 30), false));
      accept("JPEG-progressive", ContentType.JPEG, jpeg(rgb(40, 30), true));
      accept("JPEG-grey", ContentType.JPEG, jpeg(grey(24, 24), false));
      accept("JPEG-progressive-grey", ContentType.JPEG, jpeg(grey(17, 23), true));
      add(
          "accepted",
          "RAW_GREY",
          frameValue(frame("accepted", ContentType.RAW_GREY, randomBytes(12 * 7), 12, 7)),
          ACCEPTED);
      add(
          "accepted",
          "RAW_RGB",
          frameValue(frame("accepted", ContentType.RAW_RGB, randomBytes(9 * 5 * 3), 9, 5)),
          ACCEPTED);
      add(
          "accepted",
          "RAW_GREY-1x1",
          frameValue(frame("accepted", ContentType.RAW_GREY, new byte[] {7}, 1, 1)),
          ACCEPTED);
      add(
          "accepted",
          "PNG-with-matching-size",
          frameValue(frame("accepted", ContentType.PNG, png(rgb(8, 4)), 8, 4)),
          ACCEPTED);
      ImageFrame labelled = frame("accepted", ContentType.PNG, png(rgb(6, 6)), null, null);
      labelled.setLabel(3);
      labelled.setAttributes(Map.of("file", "a\nb\u0000c", "camera", "x".repeat(2000)));
      add("accepted", "PNG-odd-attributes", frameValue(labelled), ACCEPTED);
    }

    private void accept(String name, ContentType type, byte[] data) {
      add("accepted", name, frameValue(frame("accepted", type, data, null, null)), ACCEPTED);
    }

    // ---- records
    // -----------------------------------------------------------------------------------------------

    private ImageFrame frame(
        String source, ContentType type, byte[] data, Integer width, Integer height) {
      return ImageFrame.newBuilder()
          .setSourceId("hostile-" + source)
          .setSequence(sequence++)
          .setCaptureTime(Instant.ofEpochMilli(1_700_000_000_000L + sequence))
          .setContentType(type)
          .setData(ByteBuffer.wrap(data))
          .setWidth(width)
          .setHeight(height)
          .setLabel(null)
          .setAttributes(Map.of())
          .build();
    }

    private byte[] frameValue(ImageFrame frame) {
      return wire(ids.imageFrame, frameBody(frame));
    }

    private byte[] embeddingBody() {
      Embedding e =
          Embedding.newBuilder()
              .setModel("m")
              .setVersion(1)
              .setVector(List.of(0.5f, -0.5f))
              .setSourceId("cam")
              .setSequence(1)
              .setFrameTopic("frames.raw")
              .setFramePartition(0)
              .setFrameOffset(7)
              .setCreatedAt(Instant.ofEpochMilli(1_700_000_000_000L))
              .build();
      return avro(e, new SpecificDatumWriter<>(Embedding.class));
    }

    /**
     * An encoder positioned after sourceId, sequence, captureTime and the content type's enum
     * index.
     */
    private Enc framePrefix(String source, int enumIndex) {
      Enc e = new Enc();
      e.string(source);
      e.rawLong(sequence++);
      e.rawLong(1_700_000_000_000L);
      e.rawLong(enumIndex);
      return e;
    }

    /** An encoder positioned before the attributes map of a valid 2×2 PNG frame. */
    private Enc frameUpToAttributes() {
      Enc e = framePrefix("cam", ContentType.PNG.ordinal());
      e.bytesField(png(rgb(2, 2)));
      e.rawLong(0);
      e.rawLong(0);
      e.rawLong(0);
      return e;
    }

    private byte[] randomBytes(int n) {
      byte[] b = new byte[n];
      random.nextBytes(b);
      return b;
    }

    // ---- images
    // --------------------------------------------------------------------------------------------------

    private BufferedImage rgb(int w, int h) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          img.setRGB(
              x,
              y,
              (x * 255 / Math.max(1, w - 1)) << 16
                  | (y * 255 / Math.max(1, h - 1)) << 8
                  | random.nextInt(256));
        }
      }
      return img;
    }

    private BufferedImage bgr(int w, int h) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
      img.getGraphics().drawImage(rgb(w, h), 0, 0, null);
      return img;
    }

    private BufferedImage argb(int w, int h) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          img.setRGB(x, y, random.nextInt());
        }
      }
      return img;
    }

    private BufferedImage grey(int w, int h) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
      WritableRaster r = img.getRaster();
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          r.setSample(x, y, 0, (x * 31 + y * 7 + random.nextInt(16)) & 0xFF);
        }
      }
      return img;
    }

    private BufferedImage grey16(int w, int h) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
      WritableRaster r = img.getRaster();
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          r.setSample(x, y, 0, random.nextInt(65_536));
        }
      }
      return img;
    }

    private BufferedImage greyAlpha(int w, int h) {
      ComponentColorModel cm =
          new ComponentColorModel(
              ColorSpace.getInstance(ColorSpace.CS_GRAY),
              true,
              false,
              Transparency.TRANSLUCENT,
              DataBuffer.TYPE_BYTE);
      WritableRaster r = cm.createCompatibleWritableRaster(w, h);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          r.setSample(x, y, 0, random.nextInt(256));
          r.setSample(x, y, 1, random.nextInt(256));
        }
      }
      return new BufferedImage(cm, r, false, null);
    }

    private BufferedImage indexed(int w, int h) {
      byte[] red = new byte[16];
      byte[] green = new byte[16];
      byte[] blue = new byte[16];
      for (int i = 0; i < 16; i++) {
        red[i] = (byte) (i * 17);
        green[i] = (byte) (255 - i * 17);
        blue[i] = (byte) (i * 40);
      }
      IndexColorModel cm = new IndexColorModel(4, 16, red, green, blue);
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm);
      WritableRaster r = img.getRaster();
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          r.setSample(x, y, 0, random.nextInt(16));
        }
      }
      return img;
    }
  }

  // ---- encoders (static: pure functions of their input)
  // ------------------------------------------------------------

  static byte[] png(BufferedImage img) {
    return encode(img, "png", null);
  }

  static byte[] pngInterlaced(BufferedImage img) {
    return encode(img, "png", p -> p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT));
  }

  static byte[] jpeg(BufferedImage img, boolean progressive) {
    return encode(
        img,
        "jpeg",
        p -> {
          if (progressive) {
            p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
          }
        });
  }

  static byte[] gif(BufferedImage img) {
    return encode(img, "gif", null);
  }

  static byte[] bmp(BufferedImage img) {
    return encode(img, "bmp", null);
  }

  private static byte[] encode(
      BufferedImage img, String format, java.util.function.Consumer<ImageWriteParam> p) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (p != null) {
        p.accept(param);
      }
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a " + format + " test image", e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  /**
   * A PNG from its parts: IHDR as given (not validated), one IDAT with {@code idat}, IEND; CRCs
   * correct.
   */
  static byte[] pngRaw(
      int width, int height, int depth, int colourType, int interlace, byte[] idat) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    ByteBuffer ihdr =
        ByteBuffer.allocate(13)
            .putInt(width)
            .putInt(height)
            .put((byte) depth)
            .put((byte) colourType)
            .put((byte) 0)
            .put((byte) 0)
            .put((byte) interlace);
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", idat);
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  static byte[] deflate(byte[] raw) {
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION);
    d.setInput(raw);
    d.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    while (!d.finished()) {
      out.write(buf, 0, d.deflate(buf));
    }
    d.end();
    return out.toByteArray();
  }

  /** An 8-bit grey PNG of zeros, deflated row by row: megabytes of pixels in kilobytes. */
  static byte[] pngZeros(int w, int h) {
    Deflater d = new Deflater(Deflater.BEST_SPEED);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] row = new byte[w + 1]; // filter byte 0, then w zero samples
    byte[] buf = new byte[64 * 1024];
    for (int y = 0; y < h; y++) {
      d.setInput(row);
      while (!d.needsInput()) {
        out.write(buf, 0, d.deflate(buf));
      }
    }
    d.finish();
    while (!d.finished()) {
      out.write(buf, 0, d.deflate(buf));
    }
    d.end();
    return pngRaw(w, h, 8, 0, 0, out.toByteArray());
  }

  private static volatile byte[] bomb;

  /**
   * 20000×20000 8-bit grey, 400 MB of pixels in a few hundred kilobytes (computed once per JVM).
   */
  static byte[] pngBomb() {
    byte[] b = bomb;
    if (b == null) {
      b = pngZeros(20_000, 20_000);
      bomb = b;
    }
    return b;
  }

  /** A BMP with a BITMAPINFOHEADER as given (not validated) followed by {@code data}. */
  static byte[] bmpRaw(
      int width, int height, int bitsPerPixel, int compression, long sizeImage, byte[] data) {
    int offset = 14 + 40 + (bitsPerPixel == 8 ? 256 * 4 : 0);
    ByteBuffer b = ByteBuffer.allocate(offset + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(offset + data.length).putInt(0).putInt(offset);
    b.putInt(40)
        .putInt(width)
        .putInt(height)
        .putShort((short) 1)
        .putShort((short) bitsPerPixel)
        .putInt(compression)
        .putInt((int) sizeImage)
        .putInt(2835)
        .putInt(2835)
        .putInt(0)
        .putInt(0);
    if (bitsPerPixel == 8) {
      for (int i = 0; i < 256; i++) {
        b.put((byte) i).put((byte) i).put((byte) i).put((byte) 0);
      }
    }
    b.put(data);
    return b.array();
  }

  /** A 24-bit BMP with negative height (rows stored top-down), valid. */
  static byte[] bmpTopDown(int w, int h) {
    int stride = (w * 3 + 3) & ~3;
    byte[] px = new byte[stride * h];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 13);
    }
    return bmpRaw(w, -h, 24, 0, px.length, px);
  }

  /** The JPEG with its SOF frame size replaced; the scan data still describe the original size. */
  static byte[] patchJpegSize(byte[] jpeg, int w, int h) {
    byte[] j = jpeg.clone();
    for (int i = 2; i + 9 < j.length; i++) {
      if ((j[i] & 0xFF) == 0xFF && ((j[i + 1] & 0xFF) == 0xC0 || (j[i + 1] & 0xFF) == 0xC2)) {
        j[i + 5] = (byte) (h >> 8);
        j[i + 6] = (byte) h;
        j[i + 7] = (byte) (w >> 8);
        j[i + 8] = (byte) w;
        return j;
      }
    }
    throw new IllegalStateException("no SOF marker in the test JPEG");
  }

  /** The GIF with its logical screen and first image descriptor claiming {@code w}×{@code h}. */
  static byte[] patchGifSize(byte[] gif, int w, int h) {
    byte[] g = gif.clone();
    putLe16(g, 6, w);
    putLe16(g, 8, h);
    int at = 13;
    if ((g[10] & 0x80) != 0) {
      at += 3 << ((g[10] & 7) + 1);
    }
    while (at < g.length) {
      int b = g[at] & 0xFF;
      if (b == 0x2C) {
        putLe16(g, at + 5, w);
        putLe16(g, at + 7, h);
        return g;
      }
      if (b != 0x21) {
        break;
      }
      at += 2; // extension introducer and label, then sub-blocks up to a zero length
      while (g[at] != 0) {
        at += (g[at] & 0xFF) + 1;
      }
      at++;
    }
    throw new IllegalStateException("no image descriptor in the test GIF");
  }

  private static void putLe16(byte[] b, int at, int v) {
    b[at] = (byte) v;
    b[at + 1] = (byte) (v >> 8);
  }

  static int indexOf(byte[] data, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= data.length; i++) {
      for (int k = 0; k < pattern.length; k++) {
        if (data[i + k] != pattern[k]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("pattern not found");
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static byte[] wireHeader(int id) {
    return ByteBuffer.allocate(5).put((byte) 0).putInt(id).array();
  }

  static byte[] wire(int id, byte[] body) {
    return concat(wireHeader(id), body);
  }

  static byte[] frameBody(ImageFrame frame) {
    return avro(frame, new SpecificDatumWriter<>(ImageFrame.class));
  }

  private static <T> byte[] avro(T datum, SpecificDatumWriter<T> writer) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(datum, enc);
      enc.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Hand-written Avro binary, so lengths, counts and indexes can say what a valid writer never
   * would.
   */
  private static final class Enc {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Avro's zig-zag varint. */
    void rawLong(long v) {
      long n = (v << 1) ^ (v >> 63);
      while ((n & ~0x7FL) != 0) {
        out.write((int) ((n & 0x7F) | 0x80));
        n >>>= 7;
      }
      out.write((int) n);
    }

    void raw(byte[] b) {
      out.writeBytes(b);
    }

    void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      rawLong(b.length);
      raw(b);
    }

    void bytesField(byte[] b) {
      rawLong(b.length);
      raw(b);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
