package dev.belfry.bench.http;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Starts one HTTP server for the comparison and keeps it running until the process is stopped
 * (SIGTERM).
 *
 * <pre>
 * java ... dev.belfry.bench.http.PeerServer belfry|netty|armeria|vertx PORT STATS_PORT
 * </pre>
 *
 * <p>The server listens on 127.0.0.1:PORT with one event loop, serving {@code /text} and {@code
 * /json} over HTTP/1.1 and h2c (prior knowledge). Each connection to 127.0.0.1:STATS_PORT gets one
 * line, {@code ALLOCATED_BYTES CPU_NANOS}: the bytes every thread of this JVM has allocated so far
 * and the process's CPU time, so a script can take the difference over a measured window.
 */
public final class PeerServer {
    private PeerServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: PeerServer belfry|netty|armeria|vertx PORT STATS_PORT");
            System.exit(2);
        }
        String impl = args[0].toLowerCase(Locale.ROOT);
        int port = Integer.parseInt(args[1]);
        int statsPort = Integer.parseInt(args[2]);
        AutoCloseable server = switch (impl) {
            case "belfry" -> BelfryServer.start(port);
            case "netty" -> NettyServer.start(port);
            case "armeria" -> ArmeriaServer.start(port);
            case "vertx" -> VertxServer.start(port);
            default -> throw new IllegalArgumentException("unknown server " + impl);
        };
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("closing " + impl + ": " + e);
            }
        }));
        System.out.println(impl + " listening on 127.0.0.1:" + port);
        serveStats(statsPort); // until SIGTERM: the JVM then runs the hook above and exits
    }

    /**
     * Answers each connection to 127.0.0.1:{@code port} with one line, {@code ALLOCATED_BYTES
     * CPU_NANOS}, until the process stops. Blocks: a plain socket on the calling thread, costing
     * nothing while nobody asks.
     */
    public static void serveStats(int port) throws IOException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (var listener = new ServerSocket(port, 8, InetAddress.getLoopbackAddress())) {
            while (true) {
                try (Socket socket = listener.accept();
                        OutputStream out = socket.getOutputStream()) {
                    String line = threads.getTotalThreadAllocatedBytes() + " " + os.getProcessCpuTime() + "\n";
                    out.write(line.getBytes(StandardCharsets.US_ASCII));
                }
            }
        }
    }
}
