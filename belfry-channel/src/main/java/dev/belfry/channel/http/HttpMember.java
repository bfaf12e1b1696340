package dev.belfry.channel.http;

import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.channel.PoolMember;
import dev.belfry.http.Body;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.client.HttpClient;
import dev.belfry.http.internal.body.Observed;
import dev.belfry.reconnect.ConnectFailedException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * One member of a {@link WarmHttpChannel}: a belfry-http {@link HttpClient} to one address (one
 * multiplexed h2c connection, or a small HTTP/1.1 keep-alive pool), probed with an HTTP request.
 *
 * <p>The client reconnects by itself while the address accepts connections (an h2c connection
 * the server closed, an HTTP/1.1 connection closed after {@code Connection: close}). A connect
 * that fails, for a request or a probe, means the address no longer takes connections: the member
 * is then {@linkplain #closed() gone}, so the pool drops it and opens a replacement under the
 * address's backoff.
 *
 * <p>An exchange lasts until its response body ends (read whole, failed, cancelled or discarded),
 * not only until its head: {@link #close} waits for the exchanges in flight to end before it
 * closes the client, so a member the pool drains never cuts a body short. Thread-safe.
 */
final class HttpMember implements PoolMember<HttpRequest, HttpResponse> {
    private final InetSocketAddress address;
    private final HttpClient client;
    private final HealthRequest health;
    private final CompletableFuture<Void> gone = new CompletableFuture<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean clientClosed = new AtomicBoolean();
    // Exchanges in flight: from the call until the response body ends, or the call fails.
    private final AtomicInteger exchanges = new AtomicInteger();
    private final Runnable onClientClosed;

    private HttpMember(InetSocketAddress address, HttpClient client, HealthRequest health, Runnable onClientClosed) {
        this.address = address;
        this.client = client;
        this.health = health;
        this.onClientClosed = onClientClosed;
    }

    /** What a member's probe sends and expects; {@code check} false makes any answer healthy. */
    record HealthRequest(
            String path, int expectedStatus, @Nullable String authority, boolean check) {
        HttpRequest request() {
            HttpRequest.Builder builder = HttpRequest.builder(dev.belfry.http.HttpMethod.GET, path);
            if (authority != null) {
                builder.setHeader("host", authority);
            }
            return builder.build();
        }
    }

    /**
     * Connects a member over {@code client} (built for {@code address}, not yet connected) by sending
     * the health request: the stage completes with the member when any response head arrives (the
     * connection works; the pool's first probe judges the status), or fails with the connection
     * error (the client is then closed). {@code onClientClosed} runs once the client is closed.
     */
    static CompletionStage<HttpMember> connect(
            InetSocketAddress address, HttpClient client, HealthRequest health, Runnable onClientClosed) {
        HttpMember member = new HttpMember(address, client, health, onClientClosed);
        CompletableFuture<HttpResponse> first = client.call(health.request());
        CompletableFuture<HttpMember> connected = new CompletableFuture<>();
        first.whenComplete((response, failure) -> {
            if (failure != null) {
                member.close();
                connected.completeExceptionally(Futures.unwrap(failure));
                return;
            }
            response.body().discard();
            if (!connected.complete(member)) {
                member.close(); // the pool gave up on the connection meanwhile
            }
        });
        connected.whenComplete((ok, failure) -> {
            if (connected.isCancelled()) {
                first.cancel(false);
                member.close();
            }
        });
        return connected;
    }

    InetSocketAddress address() {
        return address;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        return observe(client.call(request));
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        if (gone.isDone() || closing.get()) {
            return null;
        }
        CompletableFuture<HttpResponse> admitted = client.tryCall(request);
        return admitted == null ? null : observe(admitted);
    }

    private CompletableFuture<HttpResponse> observe(CompletableFuture<HttpResponse> inner) {
        exchanges.incrementAndGet();
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        inner.whenComplete((response, failure) -> {
            if (failure != null) {
                failed(failure);
                exchangeEnded();
                result.completeExceptionally(Futures.unwrap(failure));
                return;
            }
            HttpResponse watched = watchBody(response);
            if (!result.complete(watched)) {
                watched.body().discard(); // the caller cancelled as the head arrived
            }
        });
        Futures.propagateCancellation(result, inner);
        return result;
    }

    /** The response, its body reporting its end so the exchange ends then. */
    private HttpResponse watchBody(HttpResponse response) {
        Body body = response.body();
        if (body.contentLength() == 0) {
            exchangeEnded();
            return response;
        }
        AtomicBoolean ended = new AtomicBoolean();
        Body watched = Observed.counting(body, new AtomicLong(), (bytes, failure) -> {
            if (ended.compareAndSet(false, true)) {
                exchangeEnded();
            }
        });
        return response.toBuilder().body(watched).build();
    }

    private void exchangeEnded() {
        if (exchanges.decrementAndGet() == 0 && closing.get()) {
            closeClient();
        }
    }

    /** A connect that failed means the address takes no connections now: the member is gone. */
    private void failed(Throwable failure) {
        if (Futures.unwrap(failure) instanceof ConnectFailedException) {
            gone.completeExceptionally(Futures.unwrap(failure));
        }
    }

    @Override
    public Readiness readiness() {
        if (closing.get() || gone.isDone()) {
            return Readiness.CLOSED;
        }
        return client.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return client.whenReady();
    }

    /** Sends the health request: healthy if the answer has the expected status (any, if not checking). */
    @Override
    public CompletionStage<?> checkHealth() {
        CompletableFuture<HttpResponse> probe = client.call(health.request());
        CompletableFuture<Void> verdict = new CompletableFuture<>();
        probe.whenComplete((response, failure) -> {
            if (failure != null) {
                failed(failure);
                verdict.completeExceptionally(Futures.unwrap(failure));
                return;
            }
            int status = response.status();
            response.body().discard();
            if (!health.check() || status == health.expectedStatus()) {
                verdict.complete(null);
            } else {
                verdict.completeExceptionally(
                        new UnhealthyStatusException(health.path(), status, health.expectedStatus()));
            }
        });
        // The pool cancels a probe that outlives its timeout: abandon the exchange with it.
        Futures.propagateCancellation(verdict, probe);
        return verdict;
    }

    @Override
    public CompletionStage<?> closed() {
        return gone;
    }

    /** Closes the client once the exchanges in flight have ended (at once if none is). */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        if (exchanges.get() == 0) {
            closeClient();
        }
    }

    private void closeClient() {
        if (clientClosed.compareAndSet(false, true)) {
            try {
                client.close();
            } finally {
                onClientClosed.run();
            }
        }
    }

    @Override
    public String toString() {
        return "HttpMember[" + address + ", " + client.protocol() + "]";
    }
}
