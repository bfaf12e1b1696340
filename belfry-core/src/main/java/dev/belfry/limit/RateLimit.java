package dev.belfry.limit;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Admits requests to the inner service at the rate of a {@link RateLimiter}; the others wait in
 * line or are rejected.
 *
 * <p>{@link #call} takes a token, waiting for one if none is available (or failing with {@link
 * dev.belfry.OverloadedException} if the limiter's queue is full), then calls the inner service.
 * Cancelling a call that is still waiting takes it out of the line: it never reaches the inner
 * service and spends no token. {@link #tryCall} takes a token only if one is available now and the
 * inner service admits the request at once; otherwise it puts the token back.
 *
 * <p>The limiter may be shared with other services, which then share its rate. Thread-safe.
 */
public final class RateLimit<Req, Res> implements Service<Req, Res> {
    private final Service<Req, Res> inner;
    private final RateLimiter limiter;

    /** Wraps {@code inner}, admitting calls at the rate of {@code limiter}. */
    public RateLimit(Service<Req, Res> inner, RateLimiter limiter) {
        this.inner = Checks.notNull(inner, "inner");
        this.limiter = Checks.notNull(limiter, "limiter");
    }

    @Override
    public CompletableFuture<Res> call(Req request) {
        if (limiter.tryAcquire()) {
            return Futures.call(inner, request);
        }
        return Admission.afterwards(limiter.acquire(), limiter::refund, () -> Futures.call(inner, request));
    }

    @Override
    public @Nullable CompletableFuture<Res> tryCall(Req request) {
        if (!limiter.tryAcquire()) {
            return null;
        }
        CompletableFuture<Res> admitted;
        try {
            admitted = inner.tryCall(request);
        } catch (RuntimeException | Error e) {
            limiter.refund();
            throw e;
        }
        if (admitted == null) {
            limiter.refund();
        }
        return admitted;
    }

    @Override
    public Readiness readiness() {
        Readiness below = inner.readiness();
        if (below == Readiness.CLOSED) {
            return Readiness.CLOSED;
        }
        return limiter.isFree() ? below : Readiness.BUSY;
    }

    /**
     * Completes when the next token arrives, or, while one is available, when the inner service
     * may become ready.
     */
    @Override
    public CompletionStage<Void> whenReady() {
        if (inner.readiness() == Readiness.CLOSED) {
            return CompletableFuture.completedFuture(null);
        }
        return limiter.isFree() ? inner.whenReady() : limiter.whenAvailable();
    }

    /** Closes the inner service; the limiter, which others may share, is left as it is. */
    @Override
    public void close() {
        inner.close();
    }

    /** The limiter this service admits calls with (possibly shared with other services). */
    public RateLimiter limiter() {
        return limiter;
    }

    @Override
    public String toString() {
        return "RateLimit[" + limiter + "]";
    }
}
