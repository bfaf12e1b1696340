package dev.belfry.breaker;

import dev.belfry.Checks;

/**
 * Hears the state transitions of a {@link CircuitBreaker}, so metrics can count how often a circuit
 * opens and closes.
 *
 * <p>Transitions are reported in order while the breaker holds its lock, on whichever thread caused
 * them (a completing call's, a caller's, a timer's): the listener must be quick, thread-safe and
 * must not call back into the breaker. A listener that throws does not break the breaker: the
 * layer wraps it with {@link #guarded}, which logs what it throws and drops the event.
 */
public interface BreakerListener {

    /** The circuit moved from state {@code from} to state {@code to}. */
    default void onStateChange(CircuitState from, CircuitState to) {}

    /** The listener that does nothing. */
    static BreakerListener none() {
        return NoBreakerListener.INSTANCE;
    }

    /**
     * Returns a listener that forwards to {@code listener} and logs and drops anything it throws, so
     * a faulty listener cannot leave the breaker's state half-updated. Guarding twice is a no-op.
     */
    static BreakerListener guarded(BreakerListener listener) {
        Checks.notNull(listener, "listener");
        if (listener instanceof NoBreakerListener || listener instanceof GuardedBreakerListener) {
            return listener;
        }
        return new GuardedBreakerListener(listener);
    }
}
