package dev.belfry.filter;

import java.util.concurrent.CompletionStage;

/**
 * Decides asynchronously whether a request may pass, and may rewrite it on the way.
 *
 * <p>The returned stage completes with the request to forward (the same one, or a rewritten one),
 * or fails to reject it; its failure becomes the caller's failure unchanged. A filter that throws
 * instead of returning a failed stage is treated the same way. If the caller cancels while the
 * check is pending, the stage's future is cancelled, so a check backed by a cancellable future
 * stops its work. Filters are shared by every call through the service and must be thread-safe.
 *
 * @param <Req> the request type the filter receives
 * @param <NewReq> the request type it passes on
 */
@FunctionalInterface
public interface AsyncRequestFilter<Req, NewReq> {

    /** Returns a stage that completes with the request to forward, or fails to reject it. */
    CompletionStage<NewReq> check(Req request);
}
