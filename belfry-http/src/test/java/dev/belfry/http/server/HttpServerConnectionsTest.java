package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.channel.EventLoopGroup;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The connection cap with eviction, a shared event-loop group, and the file descriptor reserve. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HttpServerConnectionsTest {
    private static final String GET = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";

    private final List<CompletableFuture<HttpResponse>> held = new CopyOnWriteArrayList<>();
    private final Service<HttpRequest, HttpResponse> service = request -> {
        if (request.path().equals("/hold")) {
            var answer = new CompletableFuture<HttpResponse>();
            held.add(answer);
            return answer;
        }
        return CompletableFuture.completedFuture(HttpResponse.text("ok"));
    };
    private final List<Socket> sockets = new ArrayList<>();
    private @Nullable HttpServer server;
    private @Nullable EventLoopGroup shared;

    @AfterEach
    void closeEverything() throws IOException {
        for (Socket socket : sockets) {
            socket.close();
        }
        held.forEach(answer -> answer.complete(HttpResponse.text("late")));
        if (server != null) {
            server.close();
        }
        if (shared != null) {
            shared.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private HttpServer start(int maxConnections) {
        server = HttpServer.builder(service)
                .ioThreads(1)
                .maxConnections(maxConnections)
                .shutdownGrace(Duration.ofSeconds(2))
                .start();
        return server;
    }

    private Socket open() throws IOException {
        assertThat(server).isNotNull();
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port());
        socket.setSoTimeout(10_000);
        sockets.add(socket);
        return socket;
    }

    private static void send(Socket socket, String request) throws IOException {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    /** Reads one response's status line and headers, and its body of Content-Length bytes. */
    private static int readStatus(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        String statusLine = line(in);
        int length = 0;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(header.substring(15).trim());
            }
        }
        assertThat(in.readNBytes(length)).hasSize(length);
        return Integer.parseInt(statusLine.substring(9, 12));
    }

    private static String line(InputStream in) throws IOException {
        var out = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("closed by the server after: " + out);
            }
            if (c != '\r') {
                out.append((char) c);
            }
        }
        return out.toString();
    }

    private static boolean closedByServer(Socket socket) {
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Test
    void pastTheCapANewConnectionClosesTheOneThatHasWaitedLongest() throws Exception {
        start(3);
        List<Socket> open = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Socket socket = open();
            send(socket, GET);
            assertThat(readStatus(socket)).isEqualTo(200); // accepted and counted before the next
            open.add(socket);
        }
        // The second one answers again: it now waits for less time than the first and third.
        send(open.get(1), GET);
        assertThat(readStatus(open.get(1))).isEqualTo(200);

        Socket probe = open();
        send(probe, GET);
        assertThat(readStatus(probe)).isEqualTo(200);
        assertThat(closedByServer(open.get(0))).as("the longest waiting").isTrue();
        send(open.get(1), GET);
        assertThat(readStatus(open.get(1))).isEqualTo(200);
        send(open.get(2), GET);
        assertThat(readStatus(open.get(2))).isEqualTo(200);
        assertThat(server.connectionCount()).isEqualTo(3);
    }

    @Test
    void aConnectionStillSendingItsRequestHeadCanBeEvictedButOneBeingAnsweredCannot() throws Exception {
        start(2);
        Socket busy = open();
        send(busy, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
        Socket trickling = open();
        send(busy, ""); // nothing: the hold is in flight
        send(trickling, "GET /x HTTP/1.1\r\nHost: x\r\n"); // the head is not whole yet
        org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> held.size() == 1);

        Socket probe = open();
        send(probe, GET);
        assertThat(readStatus(probe)).isEqualTo(200);
        assertThat(closedByServer(trickling))
                .as("evicted while its head trickled in")
                .isTrue();
        held.get(0).complete(HttpResponse.text("held"));
        assertThat(readStatus(busy)).isEqualTo(200);
    }

    @Test
    void whenEveryConnectionIsBeingAnsweredANewOneIsClosedAtOnce() throws Exception {
        start(2);
        List<Socket> open = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Socket socket = open();
            send(socket, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
            open.add(socket);
        }
        org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> held.size() == 2);
        Socket extra = open();
        assertThat(closedByServer(extra)).isTrue();
        held.forEach(answer -> answer.complete(HttpResponse.text("held")));
        for (Socket socket : open) {
            assertThat(readStatus(socket)).isEqualTo(200);
        }
    }

    @Test
    void withAHeaderTimeoutNoShorterThanIdleTheIdleDeadlineBoundsATricklingHeadAndClosesSilently() throws Exception {
        server = HttpServer.builder(service)
                .ioThreads(1)
                .limits(ServerLimits.defaults()
                        .withIdleTimeout(Duration.ofMillis(300))
                        .withHeaderReadTimeout(Duration.ofMillis(300)))
                .start();
        Socket socket = open();
        socket.setSoTimeout(100);
        long began = System.nanoTime();
        send(socket, "GET /x HTTP/1.1\r\nHost: x\r\n");
        boolean closed = false;
        // A header line every 100 ms would reset a timer that each byte restarts, forever.
        for (int i = 0; i < 30 && !closed; i++) {
            try {
                send(socket, "X-Slow-" + i + ": y\r\n");
                closed = closedByServer(socket);
            } catch (IOException e) {
                closed = true; // the write met the close
            }
        }
        assertThat(closed).as("closed, with no answer").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aShorterHeaderTimeoutStillAnswers408() throws Exception {
        server = HttpServer.builder(service)
                .ioThreads(1)
                .limits(ServerLimits.defaults()
                        .withIdleTimeout(Duration.ofSeconds(30))
                        .withHeaderReadTimeout(Duration.ofMillis(200)))
                .start();
        Socket socket = open();
        send(socket, "GET /x HTTP/1.1\r\nHost: x\r\n");
        assertThat(readStatus(socket)).isEqualTo(408);
    }

    @Test
    void runsOnTheCallersGroupAndLeavesItRunning() throws Exception {
        shared = Transport.NIO.newEventLoopGroup(1, "shared");
        server = HttpServer.builder(service)
                .eventLoopGroup(shared, Transport.NIO)
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .shutdownGrace(Duration.ofSeconds(2))
                .start();
        Socket socket = open();
        send(socket, GET);
        assertThat(readStatus(socket)).isEqualTo(200);
        server.close();
        assertThat(shared.isShuttingDown()).isFalse();
        assertThat(shared.submit(() -> "still running").get(5, TimeUnit.SECONDS))
                .isEqualTo("still running");
    }

    @Test
    void aPortInUseFailsStartWithAnIllegalStateExceptionNamingTheAddress() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
            assertThatThrownBy(() -> HttpServer.builder(service)
                            .bind(address)
                            .reserveDescriptor()
                            .start())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("cannot listen on " + address + ": ")
                    .hasCauseInstanceOf(IOException.class);
        }
    }

    @Test
    void theReserveIsHeldOnlyWhenAskedFor() {
        server = HttpServer.builder(service).ioThreads(1).reserveDescriptor().start();
        assertThat(server.descriptorReserved()).isTrue();
        server.close();
        assertThat(server.descriptorReserved()).as("released on close").isFalse();
        server = HttpServer.builder(service).ioThreads(1).start();
        assertThat(server.descriptorReserved()).isFalse();
        assertThatThrownBy(() -> HttpServer.builder(service).maxConnections(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxConnections must be at least 1, was 0");
    }

    @Test
    void withTheReserveAServerInAProcessOutOfDescriptorsStillAnswers() throws Exception {
        try (var child = OutOfDescriptors.start(true)) {
            assertThat(child.check()).as("the child has no descriptor left").isEqualTo("still exhausted");
            for (int i = 0; i < 5; i++) {
                long began = System.nanoTime();
                assertThat(child.get(Duration.ofSeconds(3))).as("request " + i).isEqualTo(200);
                assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(3));
            }
        }
    }

    @Test
    void withoutTheReserveTheSameServerDoesNotAnswer() throws Exception {
        // The control: shows the test above would fail without the reserve.
        try (var child = OutOfDescriptors.start(false)) {
            assertThat(child.check()).as("the child has no descriptor left").isEqualTo("still exhausted");
            assertThat(child.get(Duration.ofSeconds(2))).isEqualTo(-1);
        }
    }

    /** The child JVM of {@link OutOfDescriptorsMain}, under {@code ulimit -n}. */
    private static final class OutOfDescriptors implements AutoCloseable {
        private final Process process;
        private final Path errors;
        private final BufferedReader out;
        private final int port;

        private OutOfDescriptors(Process process, Path errors) throws IOException, InterruptedException {
            this.process = process;
            this.errors = errors;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String ready = out.readLine();
            if (ready == null || !ready.startsWith("exhausted port=")) {
                close(); // ends the child first, so its whole standard error can be read
                throw new AssertionError("the child did not start: " + ready + "\n" + Files.readString(errors));
            }
            this.port = Integer.parseInt(ready.substring("exhausted port=".length()));
        }

        static OutOfDescriptors start(boolean reserve) throws IOException, InterruptedException {
            String java = ProcessHandle.current().info().command().orElseThrow();
            List<String> command = List.of(
                    "bash",
                    "-c",
                    "ulimit -n 256 && exec \"$@\"",
                    "bash",
                    java,
                    "-Xmx64m",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "--enable-native-access=ALL-UNNAMED",
                    "-cp",
                    System.getProperty("java.class.path"),
                    OutOfDescriptorsMain.class.getName(),
                    Boolean.toString(reserve));
            // Standard error to a file: the child's logging can neither fill a pipe nor be lost.
            Path errors = Files.createTempFile("out-of-descriptors", ".err");
            return new OutOfDescriptors(
                    new ProcessBuilder(command).redirectError(errors.toFile()).start(), errors);
        }

        /** GETs /x on a new connection; the status, or -1 if none came within {@code within}. */
        int get(Duration within) throws IOException {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
                socket.setSoTimeout((int) within.toMillis());
                send(socket, "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                return readStatus(socket);
            } catch (SocketTimeoutException e) {
                return -1;
            }
        }

        /** Asks the child whether opening a file fails: {@code still exhausted} if it does. */
        @Nullable
        String check() throws IOException {
            process.getOutputStream().write("check\n".getBytes(StandardCharsets.UTF_8));
            process.getOutputStream().flush();
            return out.readLine();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            try {
                Files.deleteIfExists(errors);
            } catch (IOException e) {
                // a temporary file left behind is harmless
            }
        }
    }
}
