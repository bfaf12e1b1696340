package dev.belfry.retry;

import dev.belfry.internal.ListenerGuard;
import org.jspecify.annotations.Nullable;

/** Forwards events and logs what the delegate throws: a metrics bug must not hang a request. */
final class GuardedRetryListener implements RetryListener {
    private final RetryListener delegate;
    private final ListenerGuard guard;

    GuardedRetryListener(RetryListener delegate) {
        this.delegate = delegate;
        this.guard = new ListenerGuard(delegate);
    }

    @Override
    public void onRetry(int attempt, @Nullable Throwable cause) {
        guard.run("onRetry", () -> delegate.onRetry(attempt, cause));
    }

    @Override
    public void onBudgetExhausted() {
        guard.run("onBudgetExhausted", delegate::onBudgetExhausted);
    }

    @Override
    public String toString() {
        return "guarded(" + delegate + ")";
    }
}
