/**
 * Timeout: fails a request with {@link dev.belfry.timeout.ElapsedException} when the inner service
 * has not answered in time, and cancels the inner call.
 *
 * <p><b>Layer order.</b> The timer starts when the request enters the {@link
 * dev.belfry.timeout.Timeout}. Placed outside a concurrency limit or buffer, it bounds the caller's
 * total wait, queueing included (usually what a caller wants). Placed inside a retry, it bounds each
 * attempt; outside, it bounds all attempts together.
 *
 * <p><b>Errors.</b> Only {@code ElapsedException}; inner failures pass through unchanged. A timed-out
 * request may have been processed, so it is not marked safe to repeat.
 */
@NullMarked
package dev.belfry.timeout;

import org.jspecify.annotations.NullMarked;
