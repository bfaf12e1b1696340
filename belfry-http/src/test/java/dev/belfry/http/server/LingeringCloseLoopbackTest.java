package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The lingering close on real loopback sockets, on every transport available here: a raw client
 * that announces a large upload, gets an answer that did not read it, and then goes on sending,
 * stops, or closes its side.
 */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class LingeringCloseLoopbackTest {
    // Answers at once without reading the body.
    private final Service<HttpRequest, HttpResponse> service =
            request -> CompletableFuture.completedFuture(HttpResponse.text("ignored"));
    private final List<AutoCloseable> closeables = new ArrayList<>();

    static Stream<Transport> availableTransports() {
        return Arrays.stream(Transport.values()).filter(Transport::isAvailable);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private HttpServer start(Transport transport, Duration linger, long maxBytes) {
        HttpServer server = HttpServer.builder(service)
                .transport(transport)
                .limits(ServerLimits.defaults().withLingerTimeout(linger).withMaxLingerBytes(maxBytes))
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(1))
                .start();
        closeables.add(server);
        return server;
    }

    private Socket connect(HttpServer server) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port());
        closeables.add(0, socket);
        socket.setSoTimeout(10_000);
        return socket;
    }

    /**
     * Sends a head announcing an 8 MiB body (within the server's 10 MiB limit) and the first 64 KiB of
     * it; reads the answer up to the server's FIN.
     */
    private static String uploadAndReadAnswer(Socket socket) throws IOException {
        return uploadAndReadAnswer(socket, 8L << 20);
    }

    private static String uploadAndReadAnswer(Socket socket, long contentLength) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: " + contentLength + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[64 * 1024]);
        out.flush();
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        int n;
        while ((n = in.read(buffer)) != -1) { // -1: the server shut its output after the answer
            answer.write(buffer, 0, n);
        }
        return answer.toString(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @MethodSource("availableTransports")
    void shutsItsOutputAfterTheAnswerAndReadsOnUntilTheByteLimit(Transport transport) throws Exception {
        long maxBytes = 1L << 20;
        // A linger timeout far beyond the test's, so only the byte limit can end it.
        HttpServer server = start(transport, Duration.ofMinutes(5), maxBytes);
        Socket socket = connect(server);

        String answer = uploadAndReadAnswer(socket);
        assertThat(answer).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("connection: close\r\n");
        assertThat(answer).endsWith("\r\n\r\nignored");
        assertThat(server.connectionCount())
                .as("lingering: the client may still send")
                .isEqualTo(1);

        // Keep sending: the server reads and discards until the limit, then closes, and a later
        // write fails. Loopback socket buffers hold a few MiB, so the failure comes well before 256 MiB.
        long sent = 0;
        byte[] chunk = new byte[64 * 1024];
        try {
            while (sent < (256L << 20)) {
                socket.getOutputStream().write(chunk);
                sent += chunk.length;
            }
        } catch (IOException expected) {
            // broken pipe or reset: the server closed
        }
        assertThat(sent).as("bytes the client could send after the answer").isLessThan(256L << 20);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
    }

    @ParameterizedTest
    @MethodSource("availableTransports")
    void closesAtTheLingerTimeoutWhenTheClientGoesQuiet(Transport transport) throws Exception {
        Duration linger = Duration.ofMillis(500);
        HttpServer server = start(transport, linger, 64L << 20);
        Socket socket = connect(server);

        long before = System.nanoTime();
        String answer = uploadAndReadAnswer(socket);
        assertThat(answer).endsWith("ignored");

        await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
        assertThat(Duration.ofNanos(System.nanoTime() - before))
                .as("the server lingered before closing")
                .isGreaterThanOrEqualTo(linger);
    }

    @ParameterizedTest
    @MethodSource("availableTransports")
    void a413ForATooLargeUploadReachesTheClientStillSending(Transport transport) throws Exception {
        HttpServer server = start(transport, Duration.ofMinutes(5), 1L << 20);
        Socket socket = connect(server);

        // 1 GiB announced: refused from the head alone, while the client is already sending.
        String answer = uploadAndReadAnswer(socket, 1L << 30);
        assertThat(answer)
                .startsWith("HTTP/1.1 413 Request Entity Too Large\r\n")
                .containsIgnoringCase("connection: close\r\n");
        socket.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
    }

    @ParameterizedTest
    @MethodSource("availableTransports")
    void closesAtOnceWhenTheClientClosesItsSide(Transport transport) throws Exception {
        HttpServer server = start(transport, Duration.ofMinutes(5), 64L << 20);
        Socket socket = connect(server);

        assertThat(uploadAndReadAnswer(socket)).endsWith("ignored");
        socket.shutdownOutput();

        // Far sooner than the 5-minute linger.
        await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 0);
    }
}
