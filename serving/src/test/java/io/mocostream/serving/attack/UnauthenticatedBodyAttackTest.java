package io.mocostream.serving.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.serving.bench.SyntheticVersions;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Threat: a client without the token (or with a body over the limit) sends a huge body and makes
 * the service read it: the old refusal path drained up to 64 MiB per request, a worker busy for as
 * long as the client liked. Attack: declare 64 MiB, send 1 MiB, then stall. Defence: 401 (413) with
 * {@code Connection: close} and the body left unread: the answer comes and the server closes at
 * once, instead of waiting for the rest.
 */
@ExtendWith(KafkaClusterExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UnauthenticatedBodyAttackTest {
  private static final String TOKEN = "attack-test-token";

  /**
   * Far below the request deadline: a server waiting for the rest of the body would not close
   * within it.
   */
  private static final int PATIENCE_MS = 5_000;

  private AttackedService serve;

  @BeforeAll
  void start(KafkaCluster cluster, @TempDir Path dir) {
    serve = new AttackedService(cluster, dir, "unauth-body", o -> o.withToken(TOKEN));
  }

  @AfterAll
  void stop() {
    if (serve != null) {
      serve.close();
    }
  }

  /**
   * Sends the head and 1 MiB of a 64 MiB body, then stalls; returns what the server sent before
   * closing.
   */
  static String stallAfterOneMiB(URI base, String headers)
      throws IOException, InterruptedException {
    try (Socket s = new Socket(base.getHost(), base.getPort())) {
      s.setSoTimeout(PATIENCE_MS);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/embed HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                  + headers
                  + "Content-Length: "
                  + (64L << 20)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // The 1 MiB from another thread: a server that answers at once and closes (what is wanted)
      // resets the connection while the write may still be blocked, and the answer must still be
      // read here.
      Thread writer =
          new Thread(
              () -> {
                try {
                  out.write(new byte[1 << 20]);
                  out.flush();
                } catch (IOException closedByTheServer) {
                  // the server closed without reading the body: the defence under test
                }
              },
              "oversized-body-writer");
      writer.start();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError(
            "the server kept the connection open waiting for the rest of the body; got so far: "
                + got.toString(StandardCharsets.US_ASCII),
            e);
      } catch (IOException reset) {
        // closed with our unread bytes in its buffer: a reset after the answer is a close too
      }
      s.close(); // ends a write still blocked
      writer.join(PATIENCE_MS);
      return got.toString(StandardCharsets.US_ASCII);
    }
  }

  @Test
  void anUnauthenticatedHugeBodyGets401AndAClosedConnectionUnread() throws Exception {
    String answer = stallAfterOneMiB(serve.base, "");
    assertTrue(answer.startsWith("HTTP/1.1 401"), answer);
    assertTrue(answer.toLowerCase(Locale.ROOT).contains("connection: close"), answer);
    // The service still serves authorised clients.
    assertEquals(
        200,
        serve
            .embed(SyntheticVersions.png(16, 1, 1), "Authorization", "Bearer " + TOKEN)
            .statusCode());
  }

  @Test
  void aDeclaredOversizedBodyGets413AndAClosedConnectionUnread() throws Exception {
    String answer = stallAfterOneMiB(serve.base, "Authorization: Bearer " + TOKEN + "\r\n");
    assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
    assertTrue(answer.toLowerCase(Locale.ROOT).contains("connection: close"), answer);
  }
}
