/**
 * Retry: repeats failed requests when it is safe, after a jittered backoff, within a budget.
 *
 * <pre>{@code
 * RetryPolicy<HttpRequest, HttpResponse> policy = RetryPolicy.<HttpRequest, HttpResponse>standard()
 *     .maxAttempts(3)
 *     .idempotent(request -> request.method().equals("GET"))
 *     .retryOnResponse(response -> response.status() == 503)
 *     .attemptTimeout(Duration.ofMillis(500))
 *     .build();
 * Service<HttpRequest, HttpResponse> client = RetryLayer.of(policy, clock).wrap(transport);
 * }</pre>
 *
 * <p><b>Safety.</b> A {@link dev.belfry.retry.RetryPolicy} decides from the request and each
 * attempt's outcome; {@link dev.belfry.retry.Retry} adds two rules no policy can lift. A request is
 * repeated after a failure that may have reached the server only if the policy calls it idempotent;
 * an {@link dev.belfry.UnprocessedException} (the request was certainly never sent: a refused
 * connect, an open circuit, a shed load) is retried for any request. And every retry spends a
 * token of a {@link dev.belfry.retry.RetryBudget}, which allows a share of recent requests (20 %
 * by default) plus a small reserve: during an outage, retries add at most that share of load
 * instead of multiplying it. The budget is on by default; one budget should be shared by every
 * layer that repeats requests of one client (retries, hedges, requeues).
 *
 * <p><b>Layer order.</b> A retry outside a timeout gives each attempt its own time limit (the
 * policy's {@code attemptTimeout} does this for you); a timeout outside the retry bounds all
 * attempts together, backoffs included. Outside a balancer, each attempt may go to another endpoint
 * (usually what you want); inside it, or below a per-endpoint circuit breaker, retries stay on one
 * endpoint. Placed above a circuit breaker, a retry treats its {@code CircuitOpenException} as
 * unprocessed and may try again once the backoff ends.
 *
 * <p><b>Errors.</b> None of its own: the call ends with the last attempt's response or failure,
 * unchanged, including when the budget or the attempt limit stops it. {@code ElapsedException}
 * comes from the attempt timeout.
 *
 * <p><b>Cancellation and resources.</b> Cancelling the caller's future cancels the attempt in
 * flight and any pending backoff timer. Attempts are never left running unobserved: a response
 * that will not be returned is closed if it is {@link java.lang.AutoCloseable}.
 *
 * <p><b>Thread-safety.</b> Every class here is thread-safe; policies and budgets are shared by
 * every request of a client.
 *
 * <p><b>Events.</b> A {@link dev.belfry.retry.RetryListener}, given to {@code
 * RetryLayer.builder(policy).listener(..)}, hears each retry and each retry the budget refused, for
 * metrics; one that throws is logged and never breaks the layer.
 */
@NullMarked
package dev.belfry.retry;

import org.jspecify.annotations.NullMarked;
