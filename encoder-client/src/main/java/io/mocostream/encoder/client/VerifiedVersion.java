package io.mocostream.encoder.client;

import io.mocostream.schemas.EncoderVersion;

/**
 * An encoder version whose chunks were all present, whose payload matched the manifest's SHA-256,
 * and whose manifest carried a valid Ed25519 signature by a trusted key.
 *
 * @param manifest the manifest, as the generated class
 * @param payload the reassembled payload ({@code manifest.payloadBytes} bytes); not copied, do not
 *     modify it
 * @param topic the model topic it was read from
 * @param partition partition of the manifest
 * @param offset offset of the manifest
 */
public record VerifiedVersion(
    EncoderVersion manifest, byte[] payload, String topic, int partition, long offset) {

  public String model() {
    return manifest.getModelName();
  }

  public long version() {
    return manifest.getVersion();
  }

  @Override
  public String toString() {
    return "VerifiedVersion["
        + model()
        + " v"
        + version()
        + ", "
        + payload.length
        + " bytes, sha256 "
        + manifest.getPayloadSha256()
        + ", key "
        + manifest.getKeyId()
        + ", "
        + topic
        + "-"
        + partition
        + "@"
        + offset
        + "]";
  }
}
