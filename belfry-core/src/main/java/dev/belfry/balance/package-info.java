/**
 * Balancing: one service over a discovered set of endpoint services, sending each request to the
 * endpoint a strategy chooses.
 *
 * <pre>
 *   Discover ──changes──▶ serial executor ──▶ endpoint snapshot (immutable, swapped atomically)
 *   (static | DNS | config)   (applies changes,        │   key → service [measured by a Load]
 *                              wakes waiters)           ▼
 *   request ──▶ Balancer ──▶ strategy picks ──▶ endpoint.tryCall ──▶ admitted ──▶ response
 *                  │            (p2c, RR, ...)      │ null: busy / unhealthy / closed
 *                  │                                ▼
 *                  └── none admits ──▶ wait (≤ maxWait) for any endpoint's whenReady
 *                                        └──▶ NoEndpointsException (or at once with failFast)
 * </pre>
 *
 * <p>{@link dev.belfry.balance.Balancer#builder} takes a {@link dev.belfry.discover.Discover} and,
 * optionally, a function that makes each endpoint's service from its description. Strategies:
 * {@code p2c()} (power of two choices over Peak-EWMA, the default; or over any {@link
 * dev.belfry.load.Load}), {@code roundRobin()}, {@code weightedRoundRobin()} (smooth, nginx's),
 * {@code weightedRandom()}, {@code leastConnections()} and {@code consistentHash(key)} (a ring with
 * bounded load). Weights come from the endpoint description; {@code slowStart(window)} ramps a new
 * endpoint's share up over a window, and {@code restartSlowStart(key)} ramps one up again when it
 * returns to rotation (wire it to a health monitor's listener).
 *
 * <p>Endpoints are admitted with {@code tryCall}, so a balancer never over-admits and never picks an
 * endpoint that is not ready: wrap endpoints in {@code dev.belfry.health} monitors and the balancer
 * routes around unhealthy and ejected ones without knowing why. Discovery changes are applied as
 * they arrive on the balancer's own serial executor, with or without traffic (tower#824); endpoints
 * keep their identity by key (tower#856). An update replaces an endpoint in place: requests already
 * on the old service finish there, and it is closed when they have.
 *
 * <p><b>Layer order.</b> Layers outside the balancer see one service (a timeout outside bounds the
 * wait for an endpoint too; a retry outside may pick another endpoint). Per-endpoint layers (a
 * concurrency limit, a circuit breaker, health) go inside, in the {@code connect} function, so each
 * endpoint has its own.
 *
 * <p><b>Retrying on another endpoint.</b> {@link dev.belfry.balance.Balancer#route} and {@link
 * dev.belfry.balance.Balancer#tryRoute} take, with the request, an immutable set of endpoint keys to
 * avoid, and answer with a {@link dev.belfry.balance.Routed}: the key of the endpoint that admitted
 * the request and its response. Avoided endpoints are used only when no other can admit. {@link
 * dev.belfry.balance.RetryElsewhere} builds on them: a failure that is certainly unprocessed (or
 * that a predicate accepts) is sent again at once to an endpoint the request has not tried, at most
 * {@code maxRetries} times and within a {@link dev.belfry.retry.RetryBudget}:
 *
 * <pre>{@code
 * Service<Req, Res> client = RetryElsewhere.builder(balancer, RetryBudget.of(clock)).maxRetries(2).build();
 * }</pre>
 *
 * <p><b>Errors.</b> {@link dev.belfry.balance.NoEndpointsException} when no endpoint admitted the
 * request in time, {@link dev.belfry.ServiceClosedException} after {@code close()}; both are
 * unprocessed, so safe to retry. Endpoint failures pass through unchanged.
 *
 * <p><b>Thread-safety.</b> Balancers are thread-safe; the request path takes no lock (smooth
 * weighted round robin excepted). The random source must be thread-safe if calls come from several
 * threads (the default, {@code ThreadLocalRandom}, is).
 */
@NullMarked
package dev.belfry.balance;

import org.jspecify.annotations.NullMarked;
