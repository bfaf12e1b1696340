/**
 * Catch panics: {@link dev.belfry.http.catchpanic.CatchPanicLayer} turns a handler's unexpected
 * failure (an exception thrown from {@code call}, or a future failed with anything that is not a
 * Belfry {@link dev.belfry.ServiceException}) into a {@code 500} response with no stack trace, and
 * logs it once, with the request id, through SLF4J.
 *
 * <p>Layer order: put it inside the request id (so the log line has the id) and inside the access
 * log and metrics (so they record the 500), outside the handler and the layers whose failures it
 * should catch. {@link dev.belfry.ServiceException}s (timeouts, overload, body limits, bad requests)
 * and cancellation pass through unchanged, because the server already maps each to its own status
 * (503, 504, 413, 400). It creates no exceptions.
 */
@NullMarked
package dev.belfry.http.catchpanic;

import org.jspecify.annotations.NullMarked;
