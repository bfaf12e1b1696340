package dev.belfry.coalesce;

import dev.belfry.Checks;

/**
 * Hears when a {@link Coalesce} answers a request without its own inner call, so metrics can count
 * the calls it saved.
 *
 * <p>Called on the caller's thread, sometimes while the layer holds a lock: the listener must be
 * quick, thread-safe and must not call back into the layer. A listener that throws does not break
 * the layer: the layer wraps it with {@link #guarded}, which logs what it throws and drops the
 * event.
 */
public interface CoalesceListener {

    /**
     * A request was answered without its own call to the inner service: it joined an identical call
     * in flight ({@code fromCache} false) or found a cached response ({@code fromCache} true).
     */
    default void onCoalescedJoin(boolean fromCache) {}

    /** The listener that does nothing. */
    static CoalesceListener none() {
        return NoCoalesceListener.INSTANCE;
    }

    /**
     * Returns a listener that forwards to {@code listener} and logs and drops anything it throws, so
     * a faulty listener cannot leave a caller's future uncompleted. Guarding twice is a no-op.
     */
    static CoalesceListener guarded(CoalesceListener listener) {
        Checks.notNull(listener, "listener");
        if (listener instanceof NoCoalesceListener || listener instanceof GuardedCoalesceListener) {
            return listener;
        }
        return new GuardedCoalesceListener(listener);
    }
}
