package dev.belfry.proxy.l4;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A blocking TCP server on loopback for tests: one platform thread per accepted connection. */
final class TestBackend implements AutoCloseable {
    /** What the backend does with each accepted connection. */
    @FunctionalInterface
    interface Handler {
        void handle(Socket socket) throws Exception;
    }

    /** Echoes every byte; after the client's FIN, shuts its own output. */
    static final Handler ECHO = socket -> {
        socket.getInputStream().transferTo(socket.getOutputStream());
        socket.shutdownOutput();
    };

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();

    private TestBackend(Handler handler) throws IOException {
        server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofPlatform().daemon().name("backend-accept").start(() -> {
            while (!server.isClosed()) {
                Socket socket;
                try {
                    socket = server.accept();
                } catch (IOException e) {
                    return;
                }
                accepted.incrementAndGet();
                sockets.add(socket);
                threads.add(Thread.ofPlatform().daemon().name("backend-conn").start(() -> {
                    try (socket) {
                        handler.handle(socket);
                    } catch (Exception e) {
                        // The test decides what a failed connection means; the socket is closed.
                    }
                }));
            }
        });
    }

    static TestBackend start(Handler handler) throws IOException {
        return new TestBackend(handler);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /** An address nothing listens on: connects to it are refused. */
    static InetSocketAddress refusing() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), probe.getLocalPort());
        }
    }

    /** Reads exactly {@code n} bytes, or fails at the end of the stream. */
    static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length != n) {
            throw new IOException("stream ended after " + bytes.length + " of " + n + " bytes");
        }
        return bytes;
    }

    static void write(OutputStream out, byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() throws Exception {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
        acceptor.join(5_000);
        for (Thread thread : threads) {
            thread.join(5_000);
        }
    }
}
