package io.mocostream.vision.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Autograd recording is per thread in PyTorch and DJL turns it off only on the engine's first
 * thread; every other thread starts with it on, so a forward pass there would build a graph nobody
 * uses (and in-place updates of parameters would be refused). Code that runs forward passes without
 * a {@code GradientCollector} calls {@link #disableOnThisThread()} first; the collector turns
 * recording on while it is open and back off on close.
 */
public final class GradMode {

  private GradMode() {}

  public static void disableOnThisThread() {
    if ("PyTorch".equals(Engine.getInstance().getEngineName())) {
      JniUtils.setGradMode(false);
    }
  }
}
