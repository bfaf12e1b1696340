/**
 * Load shedding: turns "wait for capacity" into "fail now", so an overloaded service answers at
 * once instead of queueing callers.
 *
 * <p>{@link dev.belfry.shed.LoadShed} calls the inner service's {@code tryCall}: if the inner
 * service (a concurrency limit, a rate limit, a breaker, a pool) has capacity now, the request
 * proceeds; otherwise it fails with {@link dev.belfry.OverloadedException}. Admission is exact:
 * shedding never lets more through than the inner service admits, and never waits.
 *
 * <p><b>Layer order.</b> Put it directly outside the layer whose capacity it should respect:
 * {@code loadShed} then {@code concurrencyLimit(64)} serves at most 64 at once and rejects the
 * 65th. Layers between them that do not implement {@code tryCall} exactly (they must delegate it)
 * would weaken the guarantee. Outside a retry, a shed request may be retried elsewhere; inside a
 * balancer, the balancer already skips busy endpoints.
 *
 * <p><b>Errors.</b> {@code OverloadedException} ("service overloaded: load shed"); the request was
 * never sent, so it is safe to repeat. Inner failures pass through unchanged. A shedding service is
 * always ready (it answers at once) until the inner service closes.
 *
 * <p><b>Threads.</b> Stateless and thread-safe; as thread-safe as the inner service's {@code
 * tryCall}.
 */
@NullMarked
package dev.belfry.shed;

import org.jspecify.annotations.NullMarked;
