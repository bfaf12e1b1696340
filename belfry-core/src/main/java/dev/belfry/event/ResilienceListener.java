package dev.belfry.event;

import dev.belfry.Checks;
import dev.belfry.breaker.CircuitState;
import org.jspecify.annotations.Nullable;

/**
 * Hears what the resilience layers decide: retries, budget refusals, circuit transitions, hedges
 * and coalesced calls, so metrics can count them.
 *
 * <p>Every method has a no-op default; implement only what you count. The retry, circuit breaker,
 * coalescing and hedging layers each take an optional listener. Methods are called on whichever
 * thread made the decision (a caller's, a completing call's, a timer's), sometimes while a layer
 * holds a lock, so they must be quick, thread-safe and must not call back into the layer. A
 * listener that throws does not break the layer: layers wrap listeners with {@link #guarded}, which
 * drops what they throw.
 */
public interface ResilienceListener {

    /**
     * A retry was scheduled: {@code attempt} is the number of the attempt about to be made (2 for
     * the first retry); {@code cause} is the failure being retried, or {@code null} when a response
     * was.
     */
    default void onRetry(int attempt, @Nullable Throwable cause) {}

    /** A retry or hedge was wanted but the retry budget had nothing left, so it was not made. */
    default void onBudgetExhausted() {}

    /** A circuit breaker moved from state {@code from} to state {@code to}. */
    default void onBreakerStateChange(CircuitState from, CircuitState to) {}

    /** A backup request was sent; {@code extra} counts the backups of this request, from 1. */
    default void onHedgeSent(int extra) {}

    /**
     * A request was answered without its own call to the inner service: it joined an identical call
     * in flight ({@code fromCache} false) or found a cached response ({@code fromCache} true).
     */
    default void onCoalescedJoin(boolean fromCache) {}

    /** The listener that does nothing. */
    static ResilienceListener none() {
        return NoListener.INSTANCE;
    }

    /**
     * Returns a listener that forwards to {@code listener} and drops anything it throws, so a
     * faulty listener cannot leave a caller's future uncompleted.
     */
    static ResilienceListener guarded(ResilienceListener listener) {
        Checks.notNull(listener, "listener");
        if (listener instanceof NoListener || listener instanceof GuardedListener) {
            return listener;
        }
        return new GuardedListener(listener);
    }
}
