package dev.belfry.breaker;

import dev.belfry.internal.ListenerGuard;

/** Forwards transitions and logs what the delegate throws: a metrics bug must not break the circuit. */
final class GuardedBreakerListener implements BreakerListener {
    private final BreakerListener delegate;
    private final ListenerGuard guard;

    GuardedBreakerListener(BreakerListener delegate) {
        this.delegate = delegate;
        this.guard = new ListenerGuard(delegate);
    }

    @Override
    public void onStateChange(CircuitState from, CircuitState to) {
        guard.run("onStateChange", () -> delegate.onStateChange(from, to));
    }

    @Override
    public String toString() {
        return "guarded(" + delegate + ")";
    }
}
