package io.mocostream.encoder.client;

import io.mocostream.encoder.client.RefusedVersion.Reason;
import io.mocostream.encoder.format.PayloadChunks;
import io.mocostream.encoder.format.Sha256;
import io.mocostream.encoder.format.TrustedKeys;
import io.mocostream.encoder.format.Untrusted;
import io.mocostream.schemas.EncoderVersion;
import io.mocostream.vision.model.Architecture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.apache.avro.generic.IndexedRecord;

/**
 * The one place that decides whether an encoder version is acceptable, before and apart from its
 * chunks: the subscriber's positioning, its judgement of each manifest, and its order check all ask
 * it.
 *
 * <ol>
 *   <li>{@link #checkManifest}: the Ed25519 signature under a trusted key, over the manifest AND
 *       the schema it was written with ({@code UNKNOWN_KEY}, {@code BAD_SIGNATURE}); then, signed
 *       or not, what a loader would trust: sizes within limits, a hex SHA-256, the one payload
 *       format there is ({@value #PAYLOAD_FORMAT}) ({@code MALFORMED}).
 *   <li>{@link #checkOrder}: newer than the floor (the last version accepted, or the persisted
 *       high-water mark after a restart: {@code NOT_NEWER}), and created within the maximum age,
 *       when one is set ({@code STALE}).
 *   <li>{@link #checkLoadable}, for whoever loads the weights: an architecture whose parameters fit
 *       in the payload ({@code UNLOADABLE}).
 * </ol>
 *
 * Immutable and thread-safe.
 */
public final class VersionGate {
  /** The payload format subscribers can load: a DJL {@code Block.saveParameters} stream. */
  public static final String PAYLOAD_FORMAT = "djl-params";

  private final TrustedKeys trust;
  private final long maxPayloadBytes;
  private final Duration maxAge;
  private final Clock clock;

  /** A refusal: why, and what exactly was wrong (untrusted values escaped). */
  public record Refusal(Reason reason, String message) {}

  /**
   * @param trust keys whose signatures are accepted
   * @param maxPayloadBytes largest payload accepted
   * @param maxAge oldest {@code createdAt} accepted, relative to now; null for no limit
   * @param clock what "now" is
   */
  public VersionGate(TrustedKeys trust, long maxPayloadBytes, Duration maxAge, Clock clock) {
    this.trust = Objects.requireNonNull(trust, "trust");
    if (maxPayloadBytes < 1) {
      throw new IllegalArgumentException("maxPayloadBytes must be >= 1, got " + maxPayloadBytes);
    }
    if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
      throw new IllegalArgumentException("maxAge must be positive, got " + maxAge);
    }
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxAge = maxAge;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public TrustedKeys trust() {
    return trust;
  }

  public long maxPayloadBytes() {
    return maxPayloadBytes;
  }

  public Optional<Duration> maxAge() {
    return Optional.ofNullable(maxAge);
  }

  /**
   * Signature and sanity of a manifest: {@code raw} as read (with the writer's schema, which the
   * signature covers), {@code m} the same resolved to the generated class.
   */
  public Optional<Refusal> checkManifest(IndexedRecord raw, EncoderVersion m) {
    String what = "model " + Untrusted.text(m.getModelName()) + " version " + m.getVersion();
    switch (trust.verify(raw)) {
      case UNKNOWN_KEY:
        return refuse(
            Reason.UNKNOWN_KEY,
            what
                + " is signed by key "
                + Untrusted.text(m.getKeyId())
                + ", which is not among the trusted keys "
                + trust.keyIds());
      case BAD_SIGNATURE:
        return refuse(
            Reason.BAD_SIGNATURE,
            what
                + ": the signature does not match the manifest and its writer"
                + " schema under trusted key "
                + Untrusted.text(m.getKeyId())
                + " (manifest altered, re-sent under another schema, or signed by another key)");
      default:
        break;
    }
    if (m.getChunkCount() < 1
        || m.getPayloadBytes() < 1
        || m.getPayloadBytes() > maxPayloadBytes
        || m.getPayloadBytes() > PayloadChunks.MAX_PAYLOAD_BYTES
        || m.getChunkCount() > m.getPayloadBytes()
        || !Sha256.isHex(m.getPayloadSha256())) {
      return refuse(
          Reason.MALFORMED,
          what
              + " declares "
              + m.getChunkCount()
              + " chunks, "
              + m.getPayloadBytes()
              + " bytes (limit "
              + maxPayloadBytes
              + "), sha256 '"
              + Untrusted.text(m.getPayloadSha256(), 80)
              + "'");
    }
    if (!PAYLOAD_FORMAT.equals(String.valueOf(m.getPayloadFormat()))) {
      return refuse(
          Reason.MALFORMED,
          what
              + " has payload format '"
              + Untrusted.text(m.getPayloadFormat(), 80)
              + "'; only "
              + PAYLOAD_FORMAT
              + " is loaded");
    }
    return Optional.empty();
  }

  /**
   * Whether a verified version can be handed to a loader: its architecture parses, and the
   * parameters it declares can fit in its payload (a lower bound, see {@link
   * #minimumParameterBytes}). This keeps a signed manifest that declares a ResNet-50 of width 1024
   * with a 1 MB payload from ever reaching a loader that would try to allocate its 25 GB.
   * Subscribers that only pass bytes on ({@code subscribe}, {@code export}) need not ask.
   */
  public Optional<Refusal> checkLoadable(EncoderVersion m) {
    String what = "model " + Untrusted.text(m.getModelName()) + " version " + m.getVersion();
    Architecture arch;
    try {
      arch = Architecture.fromAvro(m.getArchitecture());
    } catch (RuntimeException e) {
      return refuse(
          Reason.UNLOADABLE,
          what + " declares an architecture that does not parse: " + e.getMessage());
    }
    long least = minimumParameterBytes(arch);
    if (least > m.getPayloadBytes()) {
      return refuse(
          Reason.UNLOADABLE,
          what
              + " declares architecture "
              + arch
              + ", whose parameters take at least "
              + least
              + " bytes, with a payload of "
              + m.getPayloadBytes()
              + " bytes");
    }
    return Optional.empty();
  }

  /**
   * Order and freshness of a manifest that passed {@link #checkManifest}: its version must be above
   * {@code floor} ({@code floorInclusive}: at least {@code floor}, for the version a restarted
   * subscriber last had).
   */
  public Optional<Refusal> checkOrder(EncoderVersion m, long floor, boolean floorInclusive) {
    long v = m.getVersion();
    if (v < floor || (v == floor && !floorInclusive)) {
      return refuse(
          Reason.NOT_NEWER,
          "model "
              + Untrusted.text(m.getModelName())
              + " version "
              + v
              + " is verified but not newer than version "
              + floor
              + ", accepted before");
    }
    if (maxAge != null) {
      Instant created = m.getCreatedAt();
      Instant oldest = clock.instant().minus(maxAge);
      if (created == null || created.isBefore(oldest)) {
        return refuse(
            Reason.STALE,
            "model "
                + Untrusted.text(m.getModelName())
                + " version "
                + v
                + " was created "
                + created
                + ", more than the maximum age "
                + maxAge
                + " ago");
      }
    }
    return Optional.empty();
  }

  /**
   * A lower bound on the bytes of {@code arch}'s backbone parameters as float32: the 3×3
   * convolutions alone, 2,724·w² for a CIFAR ResNet-18 of width w (11.16 M at 64) and 5,700·w² for
   * a ResNet-50 (23.4 M at 64), each taken at 90 % so that the bound never exceeds a real parameter
   * set.
   */
  public static long minimumParameterBytes(Architecture arch) {
    long w = arch.width();
    long perWidthSquared = Architecture.RESNET50.equals(arch.backbone()) ? 5_100 : 2_450;
    return 4 * perWidthSquared * w * w;
  }

  private static Optional<Refusal> refuse(Reason reason, String message) {
    return Optional.of(new Refusal(reason, message));
  }

  @Override
  public String toString() {
    return "VersionGate["
        + trust
        + ", max payload "
        + maxPayloadBytes
        + " bytes"
        + (maxAge == null ? "" : ", max age " + maxAge)
        + "]";
  }
}
