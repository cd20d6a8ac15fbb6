package io.mocostream.registry.attack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.broker.EmbeddedKafka;
import io.mocostream.registry.RawHttp;
import io.mocostream.registry.server.EmbeddedSchemaRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Threat: a client without credentials (or with a body over 16 MiB) makes the registry read a huge
 * body. Attack: declare 64 MiB, send 1 MiB, stall. Defence: 401 (413) with {@code Connection:
 * close}, the body unread: the answer comes and the connection closes long before any deadline.
 */
class RegistryUnauthenticatedBodyAttackTest {
  private static String stallAfterOneMiB(int port, String headers)
      throws IOException, InterruptedException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /subjects/attack-value/versions HTTP/1.1\r\nHost: x\r\n"
                  + headers
                  + "Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: "
                  + (64L << 20)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // The 1 MiB from another thread: the registry answers at once and closes (the defence), which
      // resets a write still blocked; the answer must still be read here.
      Thread writer =
          new Thread(
              () -> {
                try {
                  out.write(new byte[1 << 20]);
                  out.flush();
                } catch (IOException closedByTheRegistry) {
                  // closed without reading the body: what is tested
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
        throw new AssertionError("the registry kept reading a refused body; got so far: " + got, e);
      } catch (IOException reset) {
        // closed with our unread bytes in its buffer: a close too
      }
      s.close(); // ends a write still blocked
      writer.join(5_000);
      return got.toString(StandardCharsets.US_ASCII);
    }
  }

  @Test
  void refusedHugeBodiesAreAnsweredAndTheConnectionClosedUnread() throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.startTemporary();
        EmbeddedSchemaRegistry registry =
            EmbeddedSchemaRegistry.builder(kafka.bootstrapServers())
                .port(0)
                .basicAuth("user", "secret")
                .start()) {
      String unauthenticated = stallAfterOneMiB(registry.port(), "");
      assertTrue(unauthenticated.startsWith("HTTP/1.1 401"), unauthenticated);
      assertTrue(
          unauthenticated.toLowerCase(Locale.ROOT).contains("connection: close"), unauthenticated);

      String auth =
          "Authorization: Basic "
              + Base64.getEncoder().encodeToString("user:secret".getBytes(StandardCharsets.UTF_8))
              + "\r\n";
      String tooLong = stallAfterOneMiB(registry.port(), auth);
      assertTrue(tooLong.startsWith("HTTP/1.1 413"), tooLong);
      assertTrue(tooLong.toLowerCase(Locale.ROOT).contains("connection: close"), tooLong);
      assertTrue(new RawHttp(registry.url()).get("/subjects").status() == 401, "still answering");
    }
  }
}
