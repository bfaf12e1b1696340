package dev.belfry.event;

import dev.belfry.breaker.CircuitState;
import org.jspecify.annotations.Nullable;

/** Forwards events and drops what the delegate throws: a metrics bug must not hang a request. */
final class GuardedListener implements ResilienceListener {
    private final ResilienceListener delegate;

    GuardedListener(ResilienceListener delegate) {
        this.delegate = delegate;
    }

    @Override
    public void onRetry(int attempt, @Nullable Throwable cause) {
        try {
            delegate.onRetry(attempt, cause);
        } catch (RuntimeException ignored) {
            // Dropped on purpose: see ResilienceListener#guarded.
        }
    }

    @Override
    public void onBudgetExhausted() {
        try {
            delegate.onBudgetExhausted();
        } catch (RuntimeException ignored) {
            // Dropped on purpose: see ResilienceListener#guarded.
        }
    }

    @Override
    public void onBreakerStateChange(CircuitState from, CircuitState to) {
        try {
            delegate.onBreakerStateChange(from, to);
        } catch (RuntimeException ignored) {
            // Dropped on purpose: see ResilienceListener#guarded.
        }
    }

    @Override
    public void onHedgeSent(int extra) {
        try {
            delegate.onHedgeSent(extra);
        } catch (RuntimeException ignored) {
            // Dropped on purpose: see ResilienceListener#guarded.
        }
    }

    @Override
    public void onCoalescedJoin(boolean fromCache) {
        try {
            delegate.onCoalescedJoin(fromCache);
        } catch (RuntimeException ignored) {
            // Dropped on purpose: see ResilienceListener#guarded.
        }
    }

    @Override
    public String toString() {
        return "guarded(" + delegate + ")";
    }
}
