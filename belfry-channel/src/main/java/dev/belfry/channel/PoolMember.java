package dev.belfry.channel;

import dev.belfry.Service;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One member of a {@link WarmPool}: a connection to one resolved address that serves requests as a
 * {@link Service}, answers health probes and tells the pool when it is gone.
 *
 * <p>The pool probes a member with {@link #checkHealth} as soon as it is connected and then on the
 * pool's health interval; it never sends a request to a member before its first health result
 * (outside degraded mode). A gRPC member wraps one {@code ManagedChannel} to one address and
 * probes with {@code grpc.health.v1.Health/Check}; an HTTP/2 member wraps one multiplexed
 * connection and probes with a request to a health path. The pool closes the member (with {@link
 * #close}) once it has been dropped and its requests in flight have finished.
 *
 * @param <Req> the request type
 * @param <Res> the response type
 */
public interface PoolMember<Req, Res> extends Service<Req, Res> {

    /**
     * Starts one health probe: the stage completes normally if the member is healthy and
     * exceptionally (with the reason) if not. Must not block. The pool cancels the future (when it
     * is one) if the probe outlives the pool's health timeout.
     */
    CompletionStage<?> checkHealth();

    /**
     * Completes (normally or not) when the member's connection is gone for good, so the pool drops
     * it and opens a replacement at once. The default never completes: such a member is dropped
     * only by failing its health probes.
     */
    default CompletionStage<?> closed() {
        return new CompletableFuture<>();
    }
}
