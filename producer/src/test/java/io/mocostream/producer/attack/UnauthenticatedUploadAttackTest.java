package io.mocostream.producer.attack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mocostream.producer.SourceSpec;
import io.mocostream.producer.http.FrameEndpoint;
import io.mocostream.producer.testing.TestImages;
import io.mocostream.testkit.KafkaCluster;
import io.mocostream.testkit.KafkaClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Threat: anyone who reaches the upload port publishes frames into the training stream (it had no
 * auth and bound every interface), and makes it read up to 64 MiB of a refused body. Attacks:
 * upload without, or with a wrong, token; declare 64 MiB, send 1 MiB and stall; reach the default
 * endpoint from a non-loopback address. Defences: 401 with {@code Connection: close} and the body
 * unread, nothing published; loopback by default.
 */
@ExtendWith(KafkaClusterExtension.class)
class UnauthenticatedUploadAttackTest {
  private static final String TOKEN = "upload-attack-token";

  @Test
  void uploadsWithoutTheTokenAreRefusedUnreadAndNothingIsPublished(KafkaCluster cluster)
      throws Exception {
    UploadEndpointUnderAttack endpoint = new UploadEndpointUnderAttack(cluster, null, 1, TOKEN);
    byte[] png = TestImages.png(32, 24);
    HttpResponse<String> none = endpoint.upload(png);
    assertEquals(401, none.statusCode(), none.body());
    assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
    assertEquals(401, endpoint.upload(png, "Authorization", "Bearer " + TOKEN + "x").statusCode());

    try (Socket s = new Socket(endpoint.base.getHost(), endpoint.base.getPort())) {
      s.setSoTimeout(5_000); // far below the request deadline
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST "
                  + FrameEndpoint.FRAMES_PATH
                  + " HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                  + "Content-Length: "
                  + (64L << 20)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[1 << 20]);
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError(
            "the endpoint waited for the rest of an unauthenticated body: " + got, e);
      } catch (IOException reset) {
        // closed with our unread bytes in its buffer: a close too
      }
      String answer = got.toString(StandardCharsets.US_ASCII);
      assertTrue(answer.startsWith("HTTP/1.1 401"), answer);
      assertTrue(answer.toLowerCase(Locale.ROOT).contains("connection: close"), answer);
    }

    assertFalse(
        endpoint.run.isDone(), "nothing was published (--max 1 not reached): the run goes on");
    HttpResponse<String> ok = endpoint.upload(png, "Authorization", "Bearer " + TOKEN);
    assertEquals(201, ok.statusCode(), ok.body());
    assertEquals(
        1, endpoint.run.get(60, TimeUnit.SECONDS).published()); // only the authorised upload
  }

  @Test
  void theDefaultEndpointIsNotReachableFromOtherInterfaces(KafkaCluster cluster) throws Exception {
    assertEquals("127.0.0.1", SourceSpec.DEFAULT_HTTP_HOST);
    Optional<InetAddress> external =
        Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
            .flatMap(i -> Collections.list(i.getInetAddresses()).stream())
            .filter(a -> !a.isLoopbackAddress() && a instanceof java.net.Inet4Address)
            .findFirst();
    Assumptions.assumeTrue(external.isPresent(), "this machine has no non-loopback IPv4 address");
    UploadEndpointUnderAttack endpoint = new UploadEndpointUnderAttack(cluster, null, 1, null);
    assertThrows(
        java.net.ConnectException.class,
        () -> new Socket(external.get(), endpoint.base.getPort()).close(),
        "the endpoint must not listen on " + external.get());
    assertEquals(
        201, endpoint.upload(TestImages.png(32, 24)).statusCode()); // ends the run (--max 1)
    endpoint.run.get(60, TimeUnit.SECONDS);
  }
}
