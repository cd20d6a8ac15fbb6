/**
 * Encoder networks: {@link io.mocostream.trainer.model.Architecture} (what to build, with a text form for
 * configuration and the manifest), {@link io.mocostream.trainer.model.Encoders} (ResNet-18 CIFAR / narrow and
 * ResNet-50 backbones from DJL residual units, projection heads, seeded initialisation, MAC counting) and
 * {@link io.mocostream.trainer.model.Encoder} (an inference-only backbone loaded from published weights).
 */
package io.mocostream.trainer.model;
