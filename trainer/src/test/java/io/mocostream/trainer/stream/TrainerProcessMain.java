package io.mocostream.trainer.stream;

import io.mocostream.schemas.EncoderVersion;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-only entry point: one {@link StreamTrainer} in a JVM of its own, so that {@link
 * TrainerKillTest} can SIGKILL it at any moment. Arguments: {@code BOOTSTRAP REGISTRY_URL
 * key=value...} (trainer settings).
 *
 * <p>Besides the logs it prints protocol lines, each flushed as soon as it is written, for the
 * parent to follow:
 *
 * <pre>
 *   @@ STEP step lossBits(hex) images      after every step (the loss's exact bits: redone steps must repeat them)
 *   @@ PUBLISHED version step sha256       after a version and its checkpoint committed
 *   @@ RECOVERED step                      after a failed transaction was rolled back
 *   @@ DONE version                        run() returned; the JVM exits 0
 *   @@ FAILED message                      run() threw; the JVM exits 1
 * </pre>
 */
public final class TrainerProcessMain {
  static final String MARK = "@@ ";

  private TrainerProcessMain() {}

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: TrainerProcessMain BOOTSTRAP REGISTRY_URL [key=value...]");
      System.exit(2);
    }
    Map<String, String> settings = new LinkedHashMap<>();
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq <= 0) {
        System.err.println("argument '" + args[i] + "' is not key=value");
        System.exit(2);
      }
      settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    TrainerListener listener =
        new TrainerListener() {
          @Override
          public void onStep(
              long step,
              double loss,
              int images,
              long rejected,
              long skipped,
              double imagesPerSec,
              long lag) {
            emit(
                "STEP "
                    + step
                    + " "
                    + Long.toHexString(Double.doubleToRawLongBits(loss))
                    + " "
                    + images);
          }

          @Override
          public void onPublished(EncoderVersion v) {
            emit("PUBLISHED " + v.getVersion() + " " + v.getStep() + " " + v.getPayloadSha256());
          }

          @Override
          public void onRecovered(long step, String cause) {
            emit("RECOVERED " + step);
          }
        };
    try {
      long version =
          new StreamTrainer(TrainerConfig.of(settings), args[0], args[1], listener).run();
      emit("DONE " + version);
      System.exit(0); // Kafka and DJL leave non-daemon threads behind; the run is over
    } catch (Throwable t) {
      t.printStackTrace();
      emit("FAILED " + t.toString().replace('\n', ' '));
      System.exit(1);
    }
  }

  private static synchronized void emit(String line) {
    System.out.println(MARK + line);
    System.out.flush();
  }
}
