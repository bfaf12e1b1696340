package dev.belfry.http.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.belfry.Service;
import dev.belfry.http.Body;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.test.NoNettyLeaks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The server on real loopback sockets, with the JDK's HTTP client, raw sockets and curl as peers. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(60)
class HttpServerLoopbackTest {
    private static final long BIG = 256L << 20; // twice the test JVM's heap (-Xmx128m)
    private static final int FIXED = 8 << 20; // a body held in memory, more than a socket takes at once

    private final CompletableFuture<HttpResponse> held = new CompletableFuture<>();
    private final CompletableFuture<Boolean> heldCancelled = new CompletableFuture<>();
    // Completed when a request reaches the /hold handler: the server has read its head.
    private final CompletableFuture<Void> holdReached = new CompletableFuture<>();
    private final List<HttpServer> servers = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final Service<HttpRequest, HttpResponse> service = request -> switch (request.path()) {
        case "/count" -> countBytes(request.body());
        case "/big" ->
            CompletableFuture.completedFuture(HttpResponse.status(200)
                    .body(Body.fromPublisher(new Generated(BIG, 64 * 1024), BIG))
                    .build());
        case "/fixed" ->
            CompletableFuture.completedFuture(
                    HttpResponse.status(200).body(Body.of(pattern(FIXED))).build());
        case "/echo" -> request.body().collectUtf8(1024).thenApply(text -> HttpResponse.text("echo " + text));
        case "/hold" -> {
            request.body().discard();
            holdReached.complete(null);
            held.whenComplete((r, f) -> heldCancelled.complete(held.isCancelled()));
            yield held;
        }
        default -> CompletableFuture.completedFuture(HttpResponse.text("hello " + request.path()));
    };

    private HttpServer start() {
        return start(ServerLimits.defaults());
    }

    private HttpServer start(ServerLimits limits) {
        HttpServer server = HttpServer.builder(service)
                .limits(limits)
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(5))
                .start();
        servers.add(server);
        return server;
    }

    @AfterEach
    void stop() {
        servers.forEach(HttpServer::close);
        client.close();
    }

    private static CompletableFuture<HttpResponse> countBytes(Body body) {
        var result = new CompletableFuture<HttpResponse>();
        body.publisher().subscribe(new Flow.Subscriber<ByteBuffer>() {
            private long count;
            private Flow.Subscription subscription;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(1);
            }

            @Override
            public void onNext(ByteBuffer item) {
                count += item.remaining();
                subscription.request(1);
            }

            @Override
            public void onError(Throwable failure) {
                result.completeExceptionally(failure);
            }

            @Override
            public void onComplete() {
                result.complete(HttpResponse.text(Long.toString(count)));
            }
        });
        return result;
    }

    private URI uri(HttpServer server, String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    @Test
    void aWholeResponseTheSocketCannotTakeAtOnceArrivesWholeBeforeTheNextAndBeforeTheClose() throws Exception {
        HttpServer server = start();
        byte[] expected = pattern(FIXED);

        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(64 * 1024); // the server's writes fill the path and wait
            socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()), 5_000);
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            // Pipelined: a whole response left partly unwritten must end before the next is
            // answered, and the last one's close must wait for its bytes.
            String requests = get("/fixed", "") + get("/after", "") + get("/fixed", "Connection: close\r\n");
            out.write(requests.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();

            assertSameBytes(readResponse(in), expected);
            assertThat(new String(readResponse(in), StandardCharsets.UTF_8)).isEqualTo("hello /after");
            assertSameBytes(readResponse(in), expected);
            assertThat(in.read())
                    .as("closed after the last response, not before")
                    .isEqualTo(-1);
        }
    }

    private static void assertSameBytes(byte[] actual, byte[] expected) {
        assertThat(actual.length).as("body length").isEqualTo(expected.length);
        assertThat(java.util.Arrays.mismatch(actual, expected))
                .as("first differing byte")
                .isEqualTo(-1);
    }

    private static String get(String path, String fields) {
        return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i % 251);
        }
        return bytes;
    }

    /** Reads one HTTP/1.1 response with a content-length from {@code in}; returns its body. */
    private static byte[] readResponse(InputStream in) throws IOException {
        var head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed inside a response head: " + head);
            }
            head.append((char) b);
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200 ");
        int length = -1;
        for (String line : head.toString().lines().toList()) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(
                        line.substring("content-length:".length()).trim());
            }
        }
        assertThat(length).as("content-length in " + head).isNotNegative();
        return in.readNBytes(length);
    }

    @Test
    void servesTheJdkClientOverKeepAlive() throws Exception {
        HttpServer server = start();

        for (int i = 0; i < 3; i++) {
            var response = client.send(
                    java.net.http.HttpRequest.newBuilder(uri(server, "/k" + i)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("hello /k" + i);
        }
        assertThat(server.connectionCount()).as("one kept-alive connection").isEqualTo(1);
    }

    @Test
    void upgradesToH2cWhenTheClientAsks() throws Exception {
        HttpServer server = start();
        try (HttpClient h2 = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5))
                .build()) {
            for (int i = 0; i < 3; i++) {
                var response = h2.send(
                        java.net.http.HttpRequest.newBuilder(uri(server, "/up" + i))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(response.version()).as("request " + i).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(response.body()).isEqualTo("hello /up" + i);
            }
            var posted = h2.send(
                    java.net.http.HttpRequest.newBuilder(uri(server, "/echo"))
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("upgraded"))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(posted.body()).isEqualTo("echo upgraded");
            assertThat(server.connectionCount()).as("one upgraded connection").isEqualTo(1);
        }
    }

    @Test
    void streamsABodyLargerThanTheHeapInBothDirections() throws Exception {
        HttpServer server = start(ServerLimits.defaults().withMaxRequestBodyBytes(BIG));

        var upload = client.send(
                java.net.http.HttpRequest.newBuilder(uri(server, "/count"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.fromPublisher(new Generated(BIG, 64 * 1024)))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(upload.body()).isEqualTo(Long.toString(BIG));

        var download = client.send(
                java.net.http.HttpRequest.newBuilder(uri(server, "/big")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofInputStream());
        long received = 0;
        try (InputStream in = download.body()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                received += n;
            }
        }
        assertThat(received).isEqualTo(BIG);
    }

    @Test
    void aClientThatDisconnectsMidBodyCancelsTheHandler() throws Exception {
        HttpServer server = start();

        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            OutputStream out = socket.getOutputStream();
            out.write("POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            holdReached.get(10, TimeUnit.SECONDS); // the server has the head before the client goes away
        }

        assertThat(heldCancelled.get(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void shutdownFinishesTheRequestInFlightWithConnectionCloseAndStopsAccepting() throws Exception {
        HttpServer server = start();
        var inflight = client.sendAsync(
                java.net.http.HttpRequest.newBuilder(uri(server, "/hold")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        holdReached.get(10, TimeUnit.SECONDS);

        CompletableFuture<Void> stopped = server.shutdown(Duration.ofSeconds(5));
        // The listening socket closes on the event loop: wait for that, bounded.
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThatThrownBy(
                                () -> new Socket(InetAddress.getLoopbackAddress(), server.port()).close())
                        .isInstanceOf(ConnectException.class));
        assertThat(stopped).isNotDone();
        held.complete(HttpResponse.text("finished"));

        var response = inflight.get(10, TimeUnit.SECONDS);
        assertThat(response.body()).isEqualTo("finished");
        assertThat(response.headers().firstValue("connection")).hasValue("close");
        stopped.get(10, TimeUnit.SECONDS);
    }

    @Test
    void curlSpeaksH2cByPriorKnowledge() throws Exception {
        HttpServer server = start();

        String get = curl(
                "--http2-prior-knowledge",
                "-sS",
                "-w",
                " %{http_version} %{http_code}",
                uri(server, "/h2").toString());
        String post = curl(
                "--http2-prior-knowledge",
                "-sS",
                "--data-binary",
                "over h2",
                "-w",
                " %{http_version}",
                uri(server, "/echo").toString());

        assertThat(get).isEqualTo("hello /h2 2 200");
        assertThat(post).isEqualTo("echo over h2 2");
    }

    @Test
    void h2loadGetsEveryMultiplexedRequestAnswered() throws Exception {
        Assumptions.assumeTrue(
                new java.io.File("/usr/bin/h2load").canExecute(), "h2load (nghttp2-client) is not installed");
        HttpServer server = start();

        String out = run(List.of(
                "h2load",
                "-n",
                "1000",
                "-c",
                "4",
                "-m",
                "16",
                uri(server, "/load").toString()));

        assertThat(out).contains("1000 succeeded, 0 failed, 0 errored").contains("status codes: 1000 2xx");
    }

    private static String curl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "--max-time", "10"));
        command.addAll(List.of(args));
        return run(command);
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue())
                    .as(command.get(0) + " exit status; output: " + out)
                    .isZero();
            return out;
        } finally {
            process.destroyForcibly();
        }
    }

    /** Publishes {@code total} bytes in chunks, only as demanded. */
    static final class Generated implements Flow.Publisher<ByteBuffer> {
        private final long total;
        private final int chunk;

        Generated(long total, int chunk) {
            this.total = total;
            this.chunk = chunk;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            subscriber.onSubscribe(new Flow.Subscription() {
                private final AtomicLong demand = new AtomicLong();
                private long sent;
                private volatile boolean cancelled;

                @Override
                public void request(long n) {
                    if (demand.getAndAdd(n) > 0) {
                        return; // another call is emitting and will see the new demand
                    }
                    do {
                        if (cancelled) {
                            return;
                        }
                        if (sent >= total) {
                            cancelled = true;
                            subscriber.onComplete();
                            return;
                        }
                        int size = (int) Math.min(chunk, total - sent);
                        sent += size;
                        subscriber.onNext(ByteBuffer.allocate(size));
                    } while (demand.decrementAndGet() > 0);
                }

                @Override
                public void cancel() {
                    cancelled = true;
                }
            });
        }
    }
}
