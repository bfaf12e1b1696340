package dev.belfry.http.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A blocking HTTP/1.1 peer on a loopback socket that does exactly what a test scripts, including
 * what a well-behaved server never does. Each connection runs {@code script} on its own thread;
 * {@link #close()} closes the listener and every connection and joins the threads.
 */
final class RawServer implements AutoCloseable {
    /** What the server does with one accepted connection. */
    interface Script {
        void run(Socket socket, int connection) throws IOException;
    }

    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    final AtomicInteger accepted = new AtomicInteger();

    RawServer(Script script) throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofPlatform().daemon().name("raw-server").start(() -> {
            while (!listener.isClosed()) {
                try {
                    Socket socket = listener.accept();
                    sockets.add(socket);
                    int n = accepted.incrementAndGet();
                    threads.add(Thread.ofPlatform().daemon().start(() -> {
                        try (socket) {
                            script.run(socket, n);
                        } catch (IOException e) {
                            // the client went away: nothing to do
                        }
                    }));
                } catch (IOException e) {
                    return; // closed
                }
            }
        });
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Reads one request head (up to the blank line) and returns it; null at end of stream. */
    static String readHeadOf(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        var head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1
                    : 0;
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    static void write(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Blocks until the client closes the connection. */
    static void awaitClose(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        while (in.read() >= 0) {
            // drain
        }
    }

    @Override
    public void close() throws Exception {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
        acceptor.join(5000);
        for (Thread t : threads) {
            t.join(5000);
        }
    }
}
