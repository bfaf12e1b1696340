/**
 * Load: how busy a service is, measured by wrapping it, so a balancer can send each request to the
 * least loaded endpoint.
 *
 * <p>A {@link dev.belfry.load.Load} wraps a service in a {@link dev.belfry.load.Loaded}, which
 * counts its own requests and reports {@code load()}: {@link dev.belfry.load.Load#constant},
 * {@link dev.belfry.load.Load#pending} (requests in flight) or {@link dev.belfry.load.PeakEwma}
 * (round-trip time estimate times pending plus one; 30 ms initial estimate, 10 s decay), optionally
 * penalising failures and pushback so a fast-failing endpoint does not look cheap.
 *
 * <p><b>Layer order.</b> The measure sees what happens below it: placed directly around the
 * transport it measures the endpoint; placed outside a retry or a queue it measures those too.
 * Balancers in {@code dev.belfry.balance} wrap each endpoint themselves.
 *
 * <p><b>Errors.</b> None of its own; responses, failures and cancellation pass through unchanged. A
 * request counts as pending from admission until it completes or is cancelled, exactly once.
 *
 * <p><b>Thread-safety.</b> Measures are lock-free; {@code load()} never blocks and reads the
 * injected {@link dev.belfry.time.Clock}.
 */
@NullMarked
package dev.belfry.load;

import org.jspecify.annotations.NullMarked;
