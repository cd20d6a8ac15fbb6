package io.mocostream.vision.image;

import java.util.Objects;

/**
 * A frame that cannot become a training image. {@link #reason()} is machine-readable (the streaming trainer
 * puts it in the dead-letter record's header); the message names the input and what was wrong with it.
 */
public final class FrameRejectedException extends RuntimeException {

    /** Why a frame was refused. Names are stable: they are written to the dead-letter topic. */
    public enum Reason {
        /** No payload bytes. */
        EMPTY,
        /** Payload larger than {@link DecodeLimits#maxBytes()}. */
        TOO_MANY_BYTES,
        /** Declared width × height larger than {@link DecodeLimits#maxPixels()}. */
        TOO_MANY_PIXELS,
        /** Not a valid image of the declared type: corrupt, truncated, or another format. */
        UNDECODABLE,
        /** Raw payload length ≠ width × height × channels, dimensions missing/invalid, or header ≠ declared size. */
        SIZE_MISMATCH,
        /** Content type absent or not decodable by this trainer. */
        UNSUPPORTED_TYPE
    }

    private final Reason reason;
    private final String input;

    public FrameRejectedException(Reason reason, String input, String detail) {
        this(reason, input, detail, null);
    }

    public FrameRejectedException(Reason reason, String input, String detail, Throwable cause) {
        super(reason + ": " + input + ": " + detail, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.input = input;
    }

    /** Machine-readable cause. */
    public Reason reason() {
        return reason;
    }

    /** The rejected input as named by the caller (source id and sequence, topic-partition@offset, or file). */
    public String input() {
        return input;
    }
}
