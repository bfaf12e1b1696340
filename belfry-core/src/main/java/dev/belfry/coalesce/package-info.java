/**
 * Coalescing: concurrent identical requests share one call to the inner service (request
 * deduplication, Go's singleflight), optionally with a short-lived cache of successful responses.
 *
 * <pre>{@code
 * Service<Lookup, Record> dns = CoalesceLayer.<Lookup, Record>builder(Lookup::name)
 *     .cacheFor(Duration.ofSeconds(1))
 *     .clock(clock).build()
 *     .wrap(resolver);
 * }</pre>
 *
 * <p>A key function says which requests are identical; a {@code null} key opts a request out (do
 * so for anything not idempotent). Every waiter receives the shared response or failure; a waiter
 * that cancels leaves the others waiting, and the shared call is cancelled only when all of them
 * have. Responses are shared, so they must be immutable.
 *
 * <p><b>Layer order.</b> Outside a retry, identical requests share the whole retried call (fewest
 * calls below); inside it, each attempt is shared separately. Outside a timeout, waiters share
 * the timeout of the first request; each caller's own deadline belongs above the coalescing layer.
 * Outside a balancer, one call serves the key whichever endpoint it goes to.
 *
 * <p><b>Errors.</b> None of its own; the shared call's failure reaches every waiter unchanged.
 * Failures are never cached.
 *
 * <p><b>Memory.</b> The table holds keys with a call in flight (bounded by concurrency) and at
 * most {@code maxCached} cached responses; expired ones are removed by later calls on the injected
 * clock, with no thread or timer of its own. <b>Thread-safety:</b> thread-safe.
 *
 * <p><b>Events.</b> A {@link dev.belfry.coalesce.CoalesceListener}, given to the builder's {@code
 * listener(..)}, hears each request answered by a shared call or the cache; one that throws is
 * logged and never breaks the layer.
 */
@NullMarked
package dev.belfry.coalesce;

import org.jspecify.annotations.NullMarked;
