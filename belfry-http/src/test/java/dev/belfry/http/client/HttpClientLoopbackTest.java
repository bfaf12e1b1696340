package dev.belfry.http.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.http.Body;
import dev.belfry.http.HttpMethod;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.HttpServer;
import dev.belfry.http.server.ServerLimits;
import dev.belfry.netty.transport.Transport;
import dev.belfry.test.NoNettyLeaks;
import io.netty.channel.EventLoopGroup;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The client against Belfry's own server on real loopback sockets, over HTTP/1.1 and h2c. */
@ExtendWith(NoNettyLeaks.class)
@Timeout(120)
class HttpClientLoopbackTest {
    private static final long BIG = 256L << 20; // twice the test JVM's heap (-Xmx128m)

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final AtomicInteger inHandler = new AtomicInteger();
    private final AtomicInteger maxInHandler = new AtomicInteger();
    private final List<CompletableFuture<HttpResponse>> held = new ArrayList<>();
    private final CompletableFuture<Void> allIn = new CompletableFuture<>();

    private final Service<HttpRequest, HttpResponse> service = request -> switch (request.path()) {
        case "/echo" ->
            request.body()
                    .collectUtf8(1 << 20)
                    .thenApply(text -> HttpResponse.status(200)
                            .header("x-method", request.method().name())
                            .text("echo " + text)
                            .build());
        case "/count" -> count(request.body()).thenApply(n -> HttpResponse.text(Long.toString(n)));
        case "/big" ->
            CompletableFuture.completedFuture(HttpResponse.status(200)
                    .body(Body.fromPublisher(new Generated(BIG, 64 * 1024), BIG))
                    .build());
        case "/slow" -> {
            // Answers only once 64 requests are in the handler together.
            int now = inHandler.incrementAndGet();
            maxInHandler.accumulateAndGet(now, Math::max);
            if (now == 64) {
                allIn.complete(null);
            }
            yield allIn.thenApply(unused -> HttpResponse.text("slow " + request.query()));
        }
        case "/hold" -> {
            var answer = new CompletableFuture<HttpResponse>();
            synchronized (held) {
                held.add(answer);
            }
            yield answer;
        }
        case "/ignore" -> CompletableFuture.completedFuture(HttpResponse.text("ignored"));
        case "/peer" -> {
            java.net.InetSocketAddress peer = request.attribute(HttpServer.REMOTE_ADDRESS);
            yield CompletableFuture.completedFuture(HttpResponse.text(
                    peer == null ? "none" : peer.getAddress().getHostAddress() + " " + peer.getPort()));
        }
        default -> CompletableFuture.completedFuture(HttpResponse.text("hello " + request.target()));
    };

    private HttpServer server(ServerLimits limits) {
        return server(limits, Transport.select());
    }

    private HttpServer server(ServerLimits limits, Transport transport) {
        HttpServer server = HttpServer.builder(service)
                .transport(transport)
                .limits(limits)
                .ioThreads(2)
                .shutdownGrace(java.time.Duration.ofSeconds(2))
                .start();
        closeables.add(server);
        return server;
    }

    private HttpClient client(HttpServer server, Protocol protocol, int maxConnections) {
        HttpClient client = HttpClient.builder("127.0.0.1", server.port())
                .protocol(protocol)
                .maxConnections(maxConnections)
                .ioThreads(2)
                .build();
        closeables.add(0, client);
        return client;
    }

    // Server and client both on `transport`: the client on event loops of its own, shut down after it.
    private HttpClient client(HttpServer server, Protocol protocol, int maxConnections, Transport transport) {
        EventLoopGroup group = transport.newEventLoopGroup(2, "client-" + transport.setting());
        closeables.add(0, () -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS));
        HttpClient client = HttpClient.builder("127.0.0.1", server.port())
                .protocol(protocol)
                .maxConnections(maxConnections)
                .eventLoops(group, transport)
                .build();
        closeables.add(0, client);
        return client;
    }

    /**
     * Every transport available here with every protocol: bodies are moved by demand and
     * writability, whose events each transport delivers at its own moments (a stall on one of them
     * went unseen while the suite ran on another).
     */
    static Stream<Arguments> everyTransportAndProtocol() {
        return Arrays.stream(Transport.values())
                .filter(Transport::isAvailable)
                .flatMap(transport ->
                        Arrays.stream(Protocol.values()).map(protocol -> Arguments.of(transport, protocol)));
    }

    @AfterEach
    void close() throws Exception {
        synchronized (held) {
            held.forEach(f -> f.complete(HttpResponse.text("released")));
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void getsAndPostsAndReusesOneConnection(Protocol protocol) {
        HttpServer server = server(ServerLimits.defaults());
        HttpClient client = client(server, protocol, 4);

        for (int i = 0; i < 5; i++) {
            HttpResponse response = client.call(HttpRequest.get("/hi?n=" + i)).join();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.header("content-type")).isEqualTo(HttpResponse.TEXT_UTF8);
            assertThat(response.body().collectUtf8(1024).join()).isEqualTo("hello /hi?n=" + i);
        }
        HttpResponse posted =
                client.call(HttpRequest.post("/echo", Body.of("ping"))).join();
        assertThat(posted.header("x-method")).isEqualTo("POST");
        assertThat(posted.body().collectUtf8(1024).join()).isEqualTo("echo ping");
        assertThat(client.connectionsOpened()).as("after POST").isEqualTo(1);
        HttpResponse streamed = client.call(
                        HttpRequest.post("/echo", Body.fromPublisher(new Generated(3000, 1000), -1)))
                .join();
        assertThat(streamed.body().collectUtf8(1 << 20).join()).hasSize("echo ".length() + 3000);
        HttpResponse head =
                client.call(HttpRequest.builder(HttpMethod.HEAD, "/hi").build()).join();
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body().collectBytes(1024).join()).isEmpty();
        HttpResponse afterHead = client.call(HttpRequest.get("/after")).join();
        assertThat(afterHead.body().collectUtf8(1024).join()).isEqualTo("hello /after");

        // Sequential calls whose bodies were read whole share one connection.
        assertThat(client.connectionsOpened()).isEqualTo(1);
        assertThat(server.connectionCount()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void runs64CallsAtOnce(Protocol protocol) {
        HttpServer server = server(ServerLimits.defaults());
        HttpClient client = client(server, protocol, protocol == Protocol.H2C ? 1 : 64);

        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            calls.add(client.call(HttpRequest.get("/slow?" + i))
                    .thenCompose(response -> response.body().collectUtf8(1024)));
        }
        Set<String> answers = new HashSet<>();
        for (var call : calls) {
            answers.add(call.join());
        }
        assertThat(answers).hasSize(64).contains("slow 0", "slow 63");
        // All 64 were in the handler together: over 64 connections (HTTP/1.1) or 64 streams of one.
        assertThat(maxInHandler.get()).isEqualTo(64);
        assertThat(client.connectionsOpened()).isEqualTo(protocol == Protocol.H2C ? 1 : 64);
    }

    @ParameterizedTest
    @MethodSource("everyTransportAndProtocol")
    void streamsABodyLargerThanTheHeapInBothDirections(Transport transport, Protocol protocol) {
        HttpServer server = server(ServerLimits.defaults().withMaxRequestBodyBytes(BIG), transport);
        HttpClient client = client(server, protocol, 2, transport);

        HttpResponse upload = client.call(
                        HttpRequest.post("/count", Body.fromPublisher(new Generated(BIG, 64 * 1024), BIG)))
                .join();
        assertThat(upload.body().collectUtf8(64).join()).isEqualTo(Long.toString(BIG));

        HttpResponse download = client.call(HttpRequest.get("/big")).join();
        assertThat(download.body().contentLength()).isEqualTo(BIG);
        assertThat(count(download.body()).join()).isEqualTo(BIG);
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void everyRequestCarriesItsConnectionsPeerAddressWhateverItsHeadersSay(Protocol protocol) {
        HttpServer server = server(ServerLimits.defaults());
        HttpClient client = client(server, protocol, 1);

        String first = client.call(HttpRequest.get("/peer").toBuilder()
                        .header("x-forwarded-for", "203.0.113.9")
                        .build())
                .join()
                .body()
                .collectUtf8(64)
                .join();
        String second = client.call(HttpRequest.get("/peer"))
                .join()
                .body()
                .collectUtf8(64)
                .join();
        assertThat(first).startsWith("127.0.0.1 ").isNotEqualTo("127.0.0.1 " + server.port());
        assertThat(second).as("the same connection, so the same peer").isEqualTo(first);
    }

    // HTTP/1.1: the server answers with Connection: close and closes lingering (output shut, the
    // rest of the upload read and discarded), so the client, still uploading, reads the answer
    // instead of meeting a reset. HTTP/2: the stream is reset with NO_ERROR after the answer.
    @ParameterizedTest
    @MethodSource("everyTransportAndProtocol")
    void aHandlerThatAnswersWithoutReadingTheBodyLeaksNothingAndTheClientCarriesOn(
            Transport transport, Protocol protocol) {
        HttpServer server = server(ServerLimits.defaults(), transport);
        HttpClient client = client(server, protocol, 2, transport);

        for (int i = 0; i < 20; i++) {
            HttpRequest request = i % 2 == 0
                    ? HttpRequest.post("/ignore", Body.of(new byte[100 * 1024]))
                    : HttpRequest.post("/ignore", Body.fromPublisher(new Generated(1 << 20, 16 * 1024), -1));
            HttpResponse response = client.call(request).join();
            assertThat(response.status()).as("call %d", i).isEqualTo(200);
            assertThat(response.body().collectUtf8(64).join()).as("call %d", i).isEqualTo("ignored");
        }
        HttpResponse after = client.call(HttpRequest.get("/after")).join();
        assertThat(after.body().collectUtf8(64).join()).isEqualTo("hello /after");
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void isBusyWhenEveryConnectionIsTakenAndOverloadedPastMaxPending(Protocol protocol) throws Exception {
        HttpServer server = server(ServerLimits.defaults().withMaxConcurrentStreams(2));
        HttpClient client = HttpClient.builder("127.0.0.1", server.port())
                .protocol(protocol)
                .maxConnections(protocol == Protocol.H2C ? 1 : 2)
                .maxPending(1)
                .build();
        closeables.add(0, client);

        assertThat(client.readiness()).isEqualTo(Readiness.READY);
        var first = client.call(HttpRequest.get("/hold"));
        var second = client.call(HttpRequest.get("/hold"));
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> {
                    synchronized (held) {
                        return held.size() == 2;
                    }
                });
        // Two connections (HTTP/1.1) or the server's two streams (h2c) are taken.
        assertThat(client.readiness()).isEqualTo(Readiness.BUSY);
        assertThat(client.tryCall(HttpRequest.get("/hold"))).isNull();
        var whenReady = client.whenReady().toCompletableFuture();
        var third = client.call(HttpRequest.get("/hold")); // waits: maxPending is 1
        var fourth = client.call(HttpRequest.get("/hold"));
        assertThat(fourth)
                .failsWithin(java.time.Duration.ofSeconds(1))
                .withThrowableThat()
                .havingCause()
                .isInstanceOf(dev.belfry.OverloadedException.class)
                .withMessageContaining("maxPending");
        assertThat(whenReady).isNotDone();

        synchronized (held) {
            held.get(0).complete(HttpResponse.text("one"));
        }
        // The server may have received the two calls in either order: whichever it answered is done.
        CompletableFuture.anyOf(first, second).get(10, java.util.concurrent.TimeUnit.SECONDS);
        boolean firstAnswered = first.isDone();
        var answered = firstAnswered ? first : second;
        var other = firstAnswered ? second : first;
        assertThat(answered.join().body().collectUtf8(64).join()).isEqualTo("one");
        // The freed slot went to the waiting call, which is now in the handler.
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(10))
                .until(() -> {
                    synchronized (held) {
                        return held.size() == 3;
                    }
                });
        assertThat(client.pendingCount()).isZero();
        synchronized (held) {
            held.get(1).complete(HttpResponse.text("later"));
            held.get(2).complete(HttpResponse.text("later"));
        }
        assertThat(other.join().body().collectUtf8(64).join()).isEqualTo("later");
        assertThat(third.join().body().collectUtf8(64).join()).isEqualTo("later");
        assertThat(whenReady).succeedsWithin(java.time.Duration.ofSeconds(5));
        assertThat(client.connectionsOpened()).isEqualTo(protocol == Protocol.H2C ? 1 : 2);
    }

    static CompletableFuture<Long> count(Body body) {
        var result = new CompletableFuture<Long>();
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
                result.complete(count);
            }
        });
        return result;
    }

    /** Publishes {@code total} bytes in chunks, only as demanded; counts what was pulled. */
    static final class Generated implements Flow.Publisher<ByteBuffer> {
        private final long total;
        private final int chunk;
        final AtomicLong pulled = new AtomicLong();

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
                        pulled.addAndGet(size);
                        byte[] bytes = new byte[size];
                        java.util.Arrays.fill(bytes, (byte) 'x');
                        subscriber.onNext(ByteBuffer.wrap(bytes));
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
