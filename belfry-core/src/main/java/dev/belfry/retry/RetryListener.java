package dev.belfry.retry;

import dev.belfry.Checks;
import org.jspecify.annotations.Nullable;

/**
 * Hears what a {@link Retry} decides, so metrics can count retries and budget refusals.
 *
 * <p>Every method has a no-op default; implement only what you count. Methods are called on
 * whichever thread made the decision (a completing call's, a timer's), so they must be quick,
 * thread-safe and must not call back into the layer. A listener that throws does not break the
 * layer: the layer wraps it with {@link #guarded}, which logs what it throws and drops the event.
 */
public interface RetryListener {

    /**
     * A retry was scheduled: {@code attempt} is the number of the attempt about to be made (2 for
     * the first retry); {@code cause} is the failure being retried, or {@code null} when a response
     * was.
     */
    default void onRetry(int attempt, @Nullable Throwable cause) {}

    /** A retry was wanted but the retry budget had nothing left, so it was not made. */
    default void onBudgetExhausted() {}

    /** The listener that does nothing. */
    static RetryListener none() {
        return NoRetryListener.INSTANCE;
    }

    /**
     * Returns a listener that forwards to {@code listener} and logs and drops anything it throws, so
     * a faulty listener cannot leave a caller's future uncompleted. Guarding twice is a no-op.
     */
    static RetryListener guarded(RetryListener listener) {
        Checks.notNull(listener, "listener");
        if (listener instanceof NoRetryListener || listener instanceof GuardedRetryListener) {
            return listener;
        }
        return new GuardedRetryListener(listener);
    }
}
