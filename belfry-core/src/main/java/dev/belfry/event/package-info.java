/**
 * Events of the resilience layers: one {@link dev.belfry.event.ResilienceListener} interface with a
 * no-op default per event (retry, budget exhausted, circuit state change, hedge sent, coalesced
 * join), so metrics can count what the {@code retry}, {@code breaker}, {@code hedge} and {@code
 * coalesce} layers decide without each layer defining its own callback type.
 *
 * <p><b>Thread-safety.</b> Listeners are called from callers' threads, completing calls and timers,
 * concurrently; they must be thread-safe, quick and non-blocking. Layers wrap them with {@link
 * dev.belfry.event.ResilienceListener#guarded}, so an exception thrown by a listener is dropped.
 */
@NullMarked
package dev.belfry.event;

import org.jspecify.annotations.NullMarked;
