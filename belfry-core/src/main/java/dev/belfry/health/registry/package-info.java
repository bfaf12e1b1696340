/**
 * The health of this process, protocol-neutral: named dependency checks (a database, a downstream
 * service, a disk) run in the background, a draining flag, and one report that the HTTP {@code
 * /health}, {@code /ready} and {@code /live} routes ({@code dev.belfry.http.health}), a gRPC
 * health service or a warm channel read or subscribe to.
 *
 * <pre>
 *   DependencyCheck ──every interval, timeout──▶ CheckResult (status, message) + latency
 *                                                     │ rise / fall
 *   HealthRegistry: each Dependency UNKNOWN / HEALTHY / DEGRADED / UNHEALTHY, draining flag
 *                                                     │
 *   HealthReport (status, ready, draining, dependencies) ──▶ report() and subscribe(listener)
 * </pre>
 *
 * <p>Not {@link dev.belfry.health}: that package decides whether each <em>endpoint of a
 * balancer</em> takes traffic; this one says whether <em>this process</em> can serve, and why.
 *
 * <p><b>Required or optional.</b> A required dependency that is down makes the report unhealthy and
 * not ready; an optional one only makes it degraded. Readiness also turns off while draining.
 *
 * <p><b>Defaults.</b> Each dependency is checked at once, then every 5 s after the previous check
 * ended, each check bounded by 2 s; the first result sets its status, then it goes down after 3
 * failures in a row and back up after 2 passes in a row ({@link
 * dev.belfry.health.registry.Dependency}'s {@code with...} methods change each).
 *
 * <p><b>Errors.</b> None reach callers: a check that fails, throws, returns {@code null} or times
 * out is reported unhealthy with the reason as its message. Registering a second dependency of the
 * same name, or registering after {@code close()}, throws {@link IllegalStateException}.
 *
 * <p><b>Thread-safety.</b> Thread-safe. Checks and timeouts run on the injected clock (a manual
 * clock in tests); listeners are called in order, outside the lock, one at a time.
 */
@NullMarked
package dev.belfry.health.registry;

import org.jspecify.annotations.NullMarked;
