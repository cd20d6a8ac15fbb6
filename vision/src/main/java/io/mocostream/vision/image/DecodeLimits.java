package io.mocostream.vision.image;

/**
 * Upper bounds an incoming frame must respect before the decoder allocates anything for it.
 *
 * <p>Both are checked before decoding: {@code maxBytes} against the encoded payload, {@code maxPixels}
 * against the dimensions declared in the image header (or in the frame for raw content). A hostile
 * 100000×100000 PNG of a few hundred bytes is thus refused without allocating its 30 GB of pixels.
 *
 * @param maxBytes  largest accepted payload, in bytes
 * @param maxPixels largest accepted width × height
 */
public record DecodeLimits(long maxBytes, long maxPixels) {

    /** Default payload bound: 32 MiB, far above any camera JPEG/PNG frame worth training on. */
    public static final long DEFAULT_MAX_BYTES = 32L << 20;
    /** Default pixel bound: 16 Mpx (a 4K frame is 8.3 Mpx); decoded as RGB that is 48 MB of bytes. */
    public static final long DEFAULT_MAX_PIXELS = 1L << 24;
    /** {@link #DEFAULT_MAX_BYTES} and {@link #DEFAULT_MAX_PIXELS}. */
    public static final DecodeLimits DEFAULT = new DecodeLimits(DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS);

    public DecodeLimits {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        // Decoded pixels must fit one Java array (HWC bytes, 3 channels).
        if (maxPixels > (Integer.MAX_VALUE - 8) / 3) {
            throw new IllegalArgumentException("maxPixels " + maxPixels + " exceeds what one byte[] of RGB can hold ("
                    + (Integer.MAX_VALUE - 8) / 3 + ")");
        }
    }
}
