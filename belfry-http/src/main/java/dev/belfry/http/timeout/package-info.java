/**
 * A timeout that answers with a status: {@link dev.belfry.http.timeout.RequestTimeoutLayer} gives
 * the inner service a fixed time, measured on the core's {@link dev.belfry.time.Clock} from {@code
 * call} to the response head, and answers {@code 503 Service Unavailable} (by default) when it runs
 * out, cancelling the inner call.
 *
 * <p>Why 503: tower-http's {@code TimeoutLayer} used to answer {@code 408 Request Timeout} and
 * deprecated that default in 0.6.7 in favour of a status the user picks, because 408 says the
 * <em>client</em> was too slow to send its request (Belfry's server answers 408 for that itself,
 * with its header-read timeout). A handler that takes too long is the server being unable to answer
 * now, which is 503; {@code 504 Gateway Timeout} is for a gateway whose upstream did not answer, so
 * a proxy route should pick it with {@code .status(504)}.
 *
 * <p>Unlike the core's {@link dev.belfry.timeout.TimeoutLayer} (whose {@link
 * dev.belfry.timeout.ElapsedException} the server maps to 504), the timeout here is a response, so
 * layers outside it (access log, metrics, CORS) see and record it. Layer order: the time counts
 * what runs inside it, queueing in inner limits included. Only the response head is timed; a
 * streamed body is not. It creates no exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.timeout;

import org.jspecify.annotations.NullMarked;
