package dev.belfry.proxy.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A blocking TCP backend on loopback for the integration tests: answers each line {@code L} a
 * client sends with {@code NAME:L}, and closes its side at the client's end of stream.
 *
 * <p>It can be stopped and started again on the same port, to play a backend that goes down and
 * comes back. One virtual thread per connection.
 */
final class LineBackend implements AutoCloseable {
    private final String name;
    private final InetAddress ip;
    private final int port;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private @Nullable ServerSocket server;
    private @Nullable Thread acceptor;

    private LineBackend(String name, InetAddress ip, int port) {
        this.name = name;
        this.ip = ip;
        this.port = port;
    }

    /** A backend called {@code name} on a free loopback port. */
    static LineBackend start(String name) throws IOException {
        return start(name, InetAddress.getLoopbackAddress(), 0);
    }

    /** A backend called {@code name} on {@code ip} and {@code port} (0: a free one). */
    static LineBackend start(String name, InetAddress ip, int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(ip, port), 512);
        LineBackend backend = new LineBackend(name, ip, socket.getLocalPort());
        backend.serve(socket);
        return backend;
    }

    String name() {
        return name;
    }

    InetSocketAddress address() {
        return new InetSocketAddress(ip, port);
    }

    /** {@code IP:PORT} (127.0.0.1 unless started elsewhere), as the config and {@code /health} write it. */
    String hostPort() {
        return ip.getHostAddress() + ":" + port;
    }

    /** Connections accepted so far, over every start. */
    int accepted() {
        return accepted.get();
    }

    /** Stops listening and closes every open connection; connects are refused until {@link #restart}. */
    synchronized void stop() throws InterruptedException {
        ServerSocket current = server;
        if (current == null) {
            return;
        }
        try {
            current.close();
        } catch (IOException e) {
            // Closing a server socket does not fail in a way that matters here.
        }
        server = null;
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException e) {
                // Already gone.
            }
        }
        Thread thread = acceptor;
        if (thread != null) {
            thread.join(5_000);
        }
    }

    /** Listens again on the same port. */
    synchronized void restart() throws IOException {
        if (server != null) {
            return;
        }
        ServerSocket socket = new ServerSocket();
        // The port was ours a moment ago; connections from then may linger in TIME_WAIT.
        socket.setReuseAddress(true);
        socket.bind(address(), 512);
        serve(socket);
    }

    private synchronized void serve(ServerSocket socket) {
        server = socket;
        acceptor = Thread.ofPlatform().daemon().name("backend-" + name).start(() -> {
            while (!socket.isClosed()) {
                Socket connection;
                try {
                    connection = socket.accept();
                } catch (IOException e) {
                    return;
                }
                accepted.incrementAndGet();
                sockets.add(connection);
                Thread.ofVirtual().start(() -> {
                    try (connection) {
                        answer(connection);
                    } catch (IOException e) {
                        // A client or a test that closed abruptly; the socket is closed.
                    } finally {
                        sockets.remove(connection);
                    }
                });
            }
        });
    }

    private void answer(Socket connection) throws IOException {
        InputStream in = connection.getInputStream();
        OutputStream out = connection.getOutputStream();
        String line;
        while ((line = readLine(in)) != null) {
            out.write((name + ":" + line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** One line without its {@code \n}, or null at the end of the stream. */
    static @Nullable String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    @Override
    public String toString() {
        return "LineBackend[" + name + " " + hostPort() + "]";
    }
}
