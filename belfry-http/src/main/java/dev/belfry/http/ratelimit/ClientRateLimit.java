package dev.belfry.http.ratelimit;

import dev.belfry.Forwarding;
import dev.belfry.Futures;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Limits the request rate of each client on its own: a request whose client has a token in its
 * bucket passes; one whose client has none is answered {@code 429 Too Many Requests} at once, with
 * {@code Retry-After} (the seconds one token takes to arrive, at least 1), its body discarded, and
 * the inner service never called. A request the key function maps to {@code null} passes unlimited.
 *
 * <p>Refused requests never wait (a waiting line per client would let one client hold server
 * resources), and a refused request spends no token. Thread-safe; readiness and cancellation pass
 * straight through. It creates no exceptions; inner failures pass through unchanged.
 */
public final class ClientRateLimit extends Forwarding<HttpRequest, HttpResponse, HttpRequest, HttpResponse> {
    private final Buckets buckets;
    private final Function<HttpRequest, @Nullable String> key;

    ClientRateLimit(
            Service<HttpRequest, HttpResponse> inner, Buckets buckets, Function<HttpRequest, @Nullable String> key) {
        super(inner);
        this.buckets = buckets;
        this.key = key;
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        HttpResponse refused = refusal(request);
        return refused != null ? CompletableFuture.completedFuture(refused) : Futures.call(inner, request);
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        HttpResponse refused = refusal(request);
        return refused != null ? CompletableFuture.completedFuture(refused) : inner.tryCall(request);
    }

    private @Nullable HttpResponse refusal(HttpRequest request) {
        String client = key.apply(request);
        if (client == null || buckets.tryAcquire(client)) {
            return null;
        }
        request.body().discard();
        long seconds = Math.max(1, (buckets.retryAfter().toMillis() + 999) / 1000);
        return HttpResponse.status(429)
                .header("retry-after", Long.toString(seconds))
                .text("rate limit of " + buckets.describe() + " per client exceeded\n")
                .build();
    }

    @Override
    public String toString() {
        return "ClientRateLimit[" + buckets.describe() + "]";
    }
}
