/**
 * The users service's graceful degradation, shown and measured: {@link
 * dev.belfry.examples.degradation.Degradation} runs the service under steady HTTP and gRPC load,
 * stops its database for a while, starts it again, and reports what callers saw (error rates and
 * latencies before, during and after; when the circuit opened; when {@code /ready} and gRPC health
 * went {@code NOT_SERVING} and back; the time to recover). {@link
 * dev.belfry.examples.degradation.Coalescing} measures how many database queries 200 concurrent
 * readers of one id cause, with and without coalescing and the cache.
 *
 * <p>Both are programs ({@code bin/belfry-example degradation}, {@code bin/belfry-example
 * coalescing}) and the tests assert on their figures.
 */
@NullMarked
package dev.belfry.examples.degradation;

import org.jspecify.annotations.NullMarked;
