package dev.belfry.hedge;

import dev.belfry.Checks;

/**
 * Hears what a {@link Hedge} decides, so metrics can count backup requests and budget refusals.
 *
 * <p>Every method has a no-op default; implement only what you count. Methods are called on
 * whichever thread made the decision (usually the hedge timer's), sometimes while the layer holds a
 * lock, so they must be quick, thread-safe and must not call back into the layer. A listener that
 * throws does not break the layer: the layer wraps it with {@link #guarded}, which logs what it
 * throws and drops the event.
 */
public interface HedgeListener {

    /** A backup request was sent; {@code extra} counts the backups of this request, from 1. */
    default void onHedgeSent(int extra) {}

    /** A backup was due but the retry budget had nothing left, so it was not sent. */
    default void onBudgetExhausted() {}

    /** The listener that does nothing. */
    static HedgeListener none() {
        return NoHedgeListener.INSTANCE;
    }

    /**
     * Returns a listener that forwards to {@code listener} and logs and drops anything it throws, so
     * a faulty listener cannot leave a caller's future uncompleted. Guarding twice is a no-op.
     */
    static HedgeListener guarded(HedgeListener listener) {
        Checks.notNull(listener, "listener");
        if (listener instanceof NoHedgeListener || listener instanceof GuardedHedgeListener) {
            return listener;
        }
        return new GuardedHedgeListener(listener);
    }
}
