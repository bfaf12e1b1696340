/**
 * The service contract and the means to compose services.
 *
 * <p>A {@link dev.belfry.Service} is an asynchronous function from a request to a response with
 * admission control: {@code call} waits for capacity, {@code tryCall} admits only if capacity is free
 * now, {@code readiness}/{@code whenReady} report and signal capacity. A {@link dev.belfry.Layer}
 * wraps a service in another; a {@link dev.belfry.builder.ServiceBuilder} stacks layers, the first added
 * outermost:
 *
 * <pre>
 *   request ──▶ timeout ──▶ concurrencyLimit ──▶ loadShed ──▶ your service
 *   response ◀──────────────────────────────────────────────────────┘
 * </pre>
 *
 * <p>Failures a layer causes are {@link dev.belfry.ServiceException}s; those that guarantee the
 * request was never sent are {@link dev.belfry.UnprocessedException}s and are safe to repeat. The
 * middleware lives in one package each: flow control in {@code timeout}, {@code limit}, {@code
 * shed}, {@code buffer}, {@code filter}, {@code map}, {@code steer}, {@code reconnect}; resilience
 * in {@code retry}, {@code hedge}, {@code breaker}, {@code coalesce}, each with its own listener
 * ({@code RetryListener}, ...) for metrics; endpoint selection in {@code discover}, {@code load},
 * {@code balance} and {@code health}.
 */
@NullMarked
package dev.belfry;

import org.jspecify.annotations.NullMarked;
