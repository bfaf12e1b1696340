package dev.belfry.channel.http;

import dev.belfry.http.HttpResponse;
import dev.belfry.http.server.HttpServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A belfry-http server on loopback for the channel's tests: {@code GET /ready} answers 200 while
 * {@link #ready} is set and 503 otherwise; every other request is counted and answered, a couple
 * of milliseconds later, with the backend's name (or at once with 503 while {@link #overloaded} is
 * set).
 */
final class Backend implements AutoCloseable {
    final String name;
    final AtomicBoolean ready = new AtomicBoolean(true);
    /** While set, every call but the probe is answered 503 at once. */
    final AtomicBoolean overloaded = new AtomicBoolean();

    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger probes = new AtomicInteger();
    private final HttpServer server;

    private Backend(String name, String host, int port) {
        this.name = name;
        this.server = HttpServer.builder(request -> {
                    if (request.path().equals("/ready")) {
                        probes.incrementAndGet();
                        return CompletableFuture.completedFuture(
                                ready.get() ? HttpResponse.text("ready") : HttpResponse.of(503));
                    }
                    calls.incrementAndGet();
                    if (overloaded.get()) {
                        return CompletableFuture.completedFuture(HttpResponse.of(503));
                    }
                    // The body read whole first, as a real handler would; then a short wait, so
                    // calls overlap and a server killed mid-run has some in flight.
                    return request.body()
                            .collectBytes(1 << 20)
                            .thenApplyAsync(
                                    body -> HttpResponse.text(name),
                                    CompletableFuture.delayedExecutor(2, TimeUnit.MILLISECONDS));
                })
                .bind(host, port)
                .ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2))
                .start();
    }

    /** A backend on {@code 127.0.0.1} and a free port. */
    static Backend start(String name) {
        return new Backend(name, "127.0.0.1", 0);
    }

    /** A backend on {@code host} (a loopback address) and {@code port}. */
    static Backend start(String name, String host, int port) {
        return new Backend(name, host, port);
    }

    InetSocketAddress address() {
        return server.localAddress();
    }

    /** Stops accepting and cuts every connection at once, as a crashed process would. */
    void kill() {
        server.shutdown(Duration.ZERO).join();
    }

    @Override
    public void close() {
        server.shutdown(Duration.ZERO).join();
    }
}
