package io.mocostream.registry.attack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Slowloris connections for the registry's attack tests: each sends a request line and then one
 * header line per interval, forever. (The same attacker as the testkit's SlowClients, which the
 * registry's tests cannot use: the testkit depends on the registry.)
 */
final class SlowRequests implements AutoCloseable {
  private final List<Socket> sockets = new ArrayList<>();
  private final CountDownLatch cutOff;
  private volatile boolean closing;

  SlowRequests(int port, int n, String requestLine) throws IOException {
    cutOff = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      Socket s = new Socket("127.0.0.1", port);
      s.setSoTimeout(1000);
      s.getOutputStream()
          .write((requestLine + "\r\nHost: x\r\n").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      sockets.add(s);
      int id = i;
      Thread t = new Thread(() -> trickle(s, id), "registry-slowloris-" + i);
      t.setDaemon(true);
      t.start();
    }
  }

  private void trickle(Socket s, int id) {
    try {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      for (int line = 0; !closing; line++) {
        try {
          if (in.read() < 0) {
            break;
          }
          continue;
        } catch (SocketTimeoutException stillOpen) {
          // one interval passed: next header line
        }
        out.write(("X-Slow-" + id + "-" + line + ": a\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException reset) {
      // cut off by the server
    }
    if (!closing) {
      cutOff.countDown();
    }
  }

  boolean awaitAllCutOff(Duration timeout) throws InterruptedException {
    return cutOff.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  long stillOpen() {
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
