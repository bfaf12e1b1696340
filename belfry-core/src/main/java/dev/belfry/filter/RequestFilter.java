package dev.belfry.filter;

/**
 * Decides synchronously whether a request may pass, and may rewrite it on the way.
 *
 * <p>A filter admits a request by returning it (or a rewritten one) and rejects it by throwing; the
 * thrown exception becomes the caller's failure unchanged. {@link RejectedException} is there for
 * filters that want a standard rejection. A filter runs on the caller's thread, so it must not
 * block; use an {@link AsyncRequestFilter} for checks that wait (a remote authorisation, a quota
 * lookup). Filters are shared by every call through the service and must be thread-safe.
 *
 * @param <Req> the request type the filter receives
 * @param <NewReq> the request type it passes on
 */
@FunctionalInterface
public interface RequestFilter<Req, NewReq> {

    /**
     * Returns the request to forward (the same one, or a rewritten one), or throws to reject it.
     *
     * <p>May also run for a {@code tryCall} that the inner service then declines for lack of
     * capacity, so a filter should have no side effects it cannot afford to repeat.
     */
    NewReq check(Req request) throws Exception;
}
