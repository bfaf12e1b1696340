/**
 * Filter: admits, rejects or rewrites each request before the inner service sees it.
 *
 * <p>A {@link dev.belfry.filter.RequestFilter} decides on the caller's thread (validation,
 * authentication from a header, request normalisation); an {@link
 * dev.belfry.filter.AsyncRequestFilter} may wait (a remote authorisation, a quota service). A filter
 * admits by returning the request to forward, possibly a rewritten one of another type, and
 * rejects by throwing or failing; a rejected request never reaches the inner service.
 *
 * <pre>{@code
 * Service<Req, Res> guarded = ServiceBuilder.<Req, Res>builder()
 *     .layer(FilterLayer.of(req -> {
 *         if (req.token() == null) throw new RejectedException("missing token");
 *         return req;
 *     }))
 *     .service(backend);
 * }</pre>
 *
 * <p><b>Layer order.</b> Outside a concurrency limit or rate limit, a rejected request costs no
 * permit; inside one, a request waits for a permit before it can be rejected, so filters usually
 * go outside (added first). Added before a timeout, a slow asynchronous check is not timed; added
 * after it, the check's time counts. Added before a retry, a rejection is final and the retry never
 * sees rejected requests; added after it, every attempt is checked again.
 *
 * <p><b>Errors.</b> The filter's own exception, unchanged. {@link dev.belfry.filter.RejectedException}
 * is the standard one; it is not marked safe to repeat, since a deterministic rejection would only
 * be repeated. Inner failures pass through unchanged.
 *
 * <p><b>Admission.</b> {@code tryCall} on a synchronous filter runs the check and then the inner
 * {@code tryCall}; a rejection is returned as a failed future, not {@code null}. On an asynchronous
 * filter it returns {@code null} if the inner service is not ready now, and otherwise decides
 * admission when the check completes (see {@link dev.belfry.filter.AsyncFilter}).
 *
 * <p><b>Thread-safety.</b> The services are thread-safe if their filters are; a filter is shared by
 * every call. Cancelling a call while an asynchronous check is pending cancels the check's future.
 */
@NullMarked
package dev.belfry.filter;

import org.jspecify.annotations.NullMarked;
