/**
 * Circuit breaking: stops calling a service that keeps failing, then probes it before trusting it
 * again.
 *
 * <pre>
 *            failures reach the threshold
 *   CLOSED ───────────────────────────────▶ OPEN ◀──────────┐
 *     ▲                                       │ interval ends │ a probe fails
 *     │       enough probes succeed           ▼               │ (longer interval)
 *     └──────────────────────────────── HALF_OPEN ───────────┘
 * </pre>
 *
 * <p>A {@link dev.belfry.breaker.CircuitBreaker} opens after a number of consecutive failures
 * (Finagle's failure accrual) or when the failure rate over a sliding window of calls or of time
 * reaches a threshold, once the window holds a minimum number of calls (Resilience4j's rule). It
 * stays open for an interval from a {@link dev.belfry.backoff.Backoff}: jittered, so breakers that
 * opened together do not probe together, and growing each time a probe fails. Which outcomes are
 * failures is a predicate on the response and the failure (a 503 or a timeout is, a 404 usually is
 * not). Half-open, a bounded number of probe calls pass at once; a probe's permit comes back however
 * its call ends, cancellation included.
 *
 * <p><b>Layer order.</b> Below a balancer, each endpoint gets its own breaker ({@link
 * dev.belfry.breaker.CircuitBreakerLayer} makes one per wrapped service), and an open one reports
 * {@link dev.belfry.Readiness#BUSY}, so the balancer skips it. Above a balancer, one breaker guards
 * the whole backend. Put a timeout below or above the breaker, so a hung call becomes a failure
 * (and a hung probe cannot hold its permit forever): below, the breaker counts {@code
 * ElapsedException}s it sees; above, it sees the caller's cancellation, which is not counted. A
 * retry above the breaker sees {@link dev.belfry.breaker.CircuitOpenException}, an {@link
 * dev.belfry.UnprocessedException}, and may try again (on another endpoint, above a balancer).
 *
 * <p><b>Errors.</b> {@link dev.belfry.breaker.CircuitOpenException} when open (saying why and for
 * how long) or when half-open with all probes in flight; {@code call} fails at once rather than
 * wait. Inner failures pass through unchanged.
 *
 * <p><b>Time.</b> The move to half-open is observed lazily on the injected clock; a timer runs only
 * while a caller waits on {@code whenReady()}, and none is left behind otherwise.
 *
 * <p><b>Thread-safety.</b> Thread-safe; each breaker's state is guarded by its own lock.
 *
 * <p><b>Events.</b> A {@link dev.belfry.breaker.BreakerListener}, given to the builder's {@code
 * listener(..)}, hears every state transition in order; one that throws is logged and never breaks
 * the breaker.
 */
@NullMarked
package dev.belfry.breaker;

import org.jspecify.annotations.NullMarked;
