/**
 * Hedging: sends a backup copy of a request that is slower than usual and takes the first success
 * (tail-latency insurance, as in "The Tail at Scale", Tower's hedge and Finagle's backup requests).
 *
 * <pre>{@code
 * Service<Get, Reply> client = HedgeLayer.<Get, Reply>builder(request -> true) // all GETs idempotent
 *     .percentile(95)
 *     .budget(clientBudget.withdrawOnly())
 *     .clock(clock).build()
 *     .wrap(balancer);
 * }</pre>
 *
 * <p>A {@link dev.belfry.hedge.Hedge} measures the latency of successful calls in a small histogram
 * that rotates every window, and, once the last complete window holds enough samples, sends a
 * backup when a request has waited that window's chosen percentile (at most {@code maxExtra}
 * backups, spaced by the same wait). Each backup spends a {@link dev.belfry.retry.RetryBudget}
 * token, so hedging adds a bounded share of load even when the whole backend slows down; with no
 * token, no backup. The first success wins and the others are cancelled; an early failure does not
 * beat a later success. Only requests the idempotency predicate accepts are hedged.
 *
 * <p><b>Layer order.</b> Above a balancer, the backup may go to another endpoint, which is the
 * point; below it, both copies go to the same endpoint. Below a retry, each attempt is hedged (give
 * the hedge the retry's budget, {@code withdrawOnly()}); above a timeout, the timeout applies to
 * each copy, below it to the hedged call as a whole.
 *
 * <p><b>Errors.</b> None of its own. If every attempt fails, the first failure is returned
 * unchanged.
 *
 * <p><b>Thread-safety.</b> Thread-safe. Timers run only while a request waits for its backup.
 *
 * <p><b>Events.</b> A {@link dev.belfry.hedge.HedgeListener}, given to the builder's {@code
 * listener(..)}, hears each backup sent and each one the budget refused; one that throws is logged
 * and never breaks the layer.
 */
@NullMarked
package dev.belfry.hedge;

import org.jspecify.annotations.NullMarked;
