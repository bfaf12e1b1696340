package dev.belfry.proxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/** What the tests' clients do through the proxy, with bounded waits. */
final class Clients {
    private Clients() {}

    /**
     * One short connection: sends {@code line}, ends its output, reads to the end of the stream.
     * Returns what came back (a complete answer is {@code BACKEND:line\n}).
     */
    static String exchange(InetSocketAddress proxy, String line) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(proxy, 2_000);
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The backend name in a complete answer to {@code line}, or null if the answer is not complete. */
    static @Nullable String backendOf(String answer, String line) {
        String suffix = ":" + line + "\n";
        if (!answer.endsWith(suffix) || answer.indexOf('\n') != answer.length() - 1) {
            return null;
        }
        return answer.substring(0, answer.length() - suffix.length());
    }

    /** An open connection, with a read timeout. */
    static Socket open(InetSocketAddress proxy) throws IOException {
        Socket socket = new Socket();
        socket.connect(proxy, 2_000);
        socket.setSoTimeout(5_000);
        return socket;
    }

    /** Sends {@code line} on an open connection and reads the answer line. */
    static String ask(Socket socket, String line) throws IOException {
        socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
        String answer = LineBackend.readLine(socket.getInputStream());
        return answer == null ? "(end of stream)" : answer;
    }

    /**
     * Whether the proxy closed this connection: the next read sees the end of the stream or a reset
     * within the socket's read timeout (a timeout fails the test: the connection is still open).
     */
    static boolean closedByPeer(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        try {
            return in.read() == -1;
        } catch (SocketException e) {
            // A reset: closed as well.
            return true;
        }
    }
}
