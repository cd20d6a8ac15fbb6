package io.mocostream.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A slowloris attacker for the attack tests: connections that start a request and then trickle it,
 * one header line (or, for the second half of them, one body byte of a declared Content-Length)
 * every {@code interval}, forever, each on its own thread. A server without a request deadline
 * gives each one a worker for as long as it likes; a server with one closes them, which {@link
 * #awaitAllCutOff} observes.
 */
public final class SlowClients implements AutoCloseable {
  private final List<Socket> sockets = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final CountDownLatch cutOff;
  private volatile boolean closing;

  private SlowClients(int n) {
    this.cutOff = new CountDownLatch(n);
  }

  /**
   * Opens {@code n} slow connections to {@code base}'s host and port, each starting {@code method
   * path}.
   *
   * @param extraHeaders header lines (without CRLF) sent first, e.g. an {@code Authorization}
   *     header
   */
  public static SlowClients open(
      URI base, int n, String method, String path, Duration interval, String... extraHeaders)
      throws IOException {
    SlowClients c = new SlowClients(n);
    for (int i = 0; i < n; i++) {
      boolean slowBody = i % 2 == 1;
      Socket s = new Socket(base.getHost(), base.getPort());
      s.setSoTimeout((int) interval.toMillis());
      StringBuilder head =
          new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + base.getHost() + "\r\n");
      for (String h : extraHeaders) {
        head.append(h).append("\r\n");
      }
      if (slowBody) {
        head.append("Content-Type: image/png\r\nContent-Length: 1000000\r\n\r\n");
      }
      OutputStream out = s.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
      out.flush();
      c.sockets.add(s);
      int id = i;
      Thread t = new Thread(() -> c.trickle(s, slowBody, id), "slowloris-" + i);
      t.setDaemon(true);
      c.threads.add(t);
      t.start();
    }
    return c;
  }

  private void trickle(Socket s, boolean slowBody, int id) {
    try {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      for (int line = 0; !closing; line++) {
        try {
          if (in.read() < 0) {
            break; // the server closed the connection
          }
          // Any answer byte also means the server gave up on the request; keep reading until it
          // closes.
          continue;
        } catch (SocketTimeoutException stillOpen) {
          // waited one interval: send the next fragment
        }
        out.write(
            slowBody
                ? new byte[] {'x'}
                : ("X-Slow-" + id + "-" + line + ": a\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException reset) {
      // reset by the server: cut off as well
    }
    if (!closing) {
      cutOff.countDown();
    }
  }

  /** Whether the server closed every connection within {@code timeout}. */
  public boolean awaitAllCutOff(Duration timeout) throws InterruptedException {
    return cutOff.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Connections the server has not closed yet. */
  public long stillOpen() {
    return cutOff.getCount();
  }

  @Override
  public void close() {
    closing = true;
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
