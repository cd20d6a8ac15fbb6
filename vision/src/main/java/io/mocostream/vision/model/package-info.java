/**
 * Encoder networks: {@link io.mocostream.vision.model.Architecture} (what to build, with a text
 * form for configuration and the manifest), {@link io.mocostream.vision.model.Encoders} (ResNet-18
 * CIFAR / narrow and ResNet-50 backbones from DJL residual units, projection heads, seeded
 * initialisation, MAC counting) and {@link io.mocostream.vision.model.Encoder} (an inference-only
 * backbone loaded from published weights).
 */
package io.mocostream.vision.model;
