package dev.belfry;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * An asynchronous function from a request to a response, with admission control.
 *
 * <p>Everything in Belfry (timeouts, limits, retries, balancers, proxies) is a service wrapping
 * another service. The contract, which every implementation keeps:
 *
 * <ol>
 *   <li>{@link #call} never throws: every failure comes back as an exceptionally completed future.
 *   <li>{@link #call} waits for capacity when the service is busy (backpressure); {@link #tryCall}
 *       admits the request only if capacity is available now and otherwise returns {@code null}
 *       without side effects.
 *   <li>Cancelling the returned future cancels the work below it: permits are returned, timers
 *       cancelled, connections released.
 *   <li>A layer creates only the exceptions it causes (subclasses of {@link ServiceException}); inner
 *       failures pass through unchanged.
 * </ol>
 *
 * <p>Unlike Tower's {@code poll_ready}, readiness never reserves capacity: {@link #readiness} is a
 * snapshot and admission happens inside {@link #call} or {@link #tryCall}, so no reservation can
 * leak. Implementations must be safe to call from many threads.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public interface Service<Req, Res> extends AutoCloseable {

    /**
     * Admits the request, waiting for capacity if needed, and completes with its response.
     *
     * <p>Never throws. Cancelling the returned future (with {@code cancel(false)} or {@code
     * cancel(true)}) abandons the request and releases what it held.
     */
    CompletableFuture<Res> call(Req request);

    /**
     * Admits the request only if capacity is available now; otherwise returns {@code null} and does
     * nothing.
     *
     * <p>A layer that holds capacity (a limit, a rate, a breaker) implements this atomically. The
     * default is right only for services that are always ready: it calls {@link #call} when {@link
     * #readiness} is {@link Readiness#READY} and returns {@code null} otherwise.
     */
    default @Nullable CompletableFuture<Res> tryCall(Req request) {
        return readiness() == Readiness.READY ? call(request) : null;
    }

    /** A snapshot of whether a call would be admitted now. Never blocks. */
    default Readiness readiness() {
        return Readiness.READY;
    }

    /**
     * Completes when {@link #readiness} may have changed away from {@link Readiness#BUSY}.
     *
     * <p>It may complete spuriously; callers re-check {@link #readiness} or use {@link #tryCall}. The
     * default completes at once, which is right for services that are never busy.
     */
    default CompletionStage<Void> whenReady() {
        return CompletableFuture.completedFuture(null);
    }

    /** Releases connections, timers and tasks this service owns. Idempotent; never throws. */
    @Override
    default void close() {}
}
