/**
 * Limits: bound how many calls are in flight ({@link dev.belfry.limit.ConcurrencyLimit}) or how fast
 * they start ({@link dev.belfry.limit.RateLimit}).
 *
 * <p><b>Wait or reject.</b> A call that finds no capacity waits in a first-in, first-out queue:
 * that is backpressure, and neither limit ever admits more than it allows. The queue may be bounded
 * ({@code maxQueued}); a call that finds it full fails at once, and with {@code maxQueued} 0 a
 * limit never waits. {@code tryCall} never waits: it admits only if capacity is free now and nobody
 * is queued ahead. To reject instead of waiting whatever the queue, put a {@link
 * dev.belfry.shed.LoadShed} outside the limit.
 *
 * <pre>{@code
 * ServiceBuilder.<Req, Res>builder()
 *     .layer(TimeoutLayer.of(Duration.ofSeconds(2), clock))      // bounds queueing plus the call
 *     .layer(ConcurrencyLimitLayer.of(64, 1_000))                // at most 64 in flight, 1,000 waiting
 *     .layer(RateLimitLayer.of(100, Duration.ofSeconds(1), clock))
 *     .service(transport);
 * }</pre>
 *
 * <p><b>Shared or per service.</b> The state of a limit is an object: {@link
 * dev.belfry.limit.Permits} (a fair async semaphore) for concurrency, {@link
 * dev.belfry.limit.RateLimiter} (a token bucket) for rate. Layers built from numbers ({@code
 * ConcurrencyLimitLayer.of(64)}, {@code RateLimitLayer.of(100, per, clock)}) give every service they
 * wrap its own state; layers built from a state object ({@code ConcurrencyLimitLayer.shared(permits)},
 * {@code RateLimitLayer.of(limiter)}) share it, so a limit can span many services (all the backends
 * of a proxy route, say).
 *
 * <p><b>Layer order.</b> Inside a {@link dev.belfry.timeout.Timeout}, time spent queued counts
 * toward the timeout, and a timed-out call leaves the queue; outside it, the timeout starts only
 * once a permit or token is held. Inside a retry, each attempt is limited; outside, the whole
 * sequence holds one permit. A concurrency limit holds its permit until the inner call completes
 * (or is cancelled), and gives it back before the caller sees the outcome. A rate limit spends its
 * token at admission and never gives it back, unless the request was never sent.
 *
 * <p><b>Permits that live as long as the response.</b> When a response outlives its call (a
 * connection handed to a relay, a body still streaming), limit live responses instead: {@code
 * ConcurrencyLimitLayer.of(max).heldUntil(response -> response.closed())} keeps each successful
 * call's permit until the stage the function returns completes. Failures and cancellations give
 * the permit back at once; a response that arrives after its caller left is closed (if {@link
 * java.lang.AutoCloseable}) and its permit given back.
 *
 * <p><b>Errors.</b> {@link dev.belfry.OverloadedException} when the queue is full, naming the limit;
 * the request was never sent, so it is safe to repeat. Inner failures pass through unchanged.
 * Cancelling a queued call removes it from the queue: it never reaches the inner service and takes
 * no permit or token.
 *
 * <p><b>Threads.</b> Every class here is thread-safe and never blocks; futures are completed outside
 * the limits' locks, so callbacks may call back in. A rate limiter keeps one timer while callers
 * wait for a token and none while idle; time comes from an injected {@link dev.belfry.time.Clock}.
 */
@NullMarked
package dev.belfry.limit;

import org.jspecify.annotations.NullMarked;
