package dev.belfry.coalesce;

import dev.belfry.internal.ListenerGuard;

/** Forwards events and logs what the delegate throws: a metrics bug must not hang a request. */
final class GuardedCoalesceListener implements CoalesceListener {
    private final CoalesceListener delegate;
    private final ListenerGuard guard;

    GuardedCoalesceListener(CoalesceListener delegate) {
        this.delegate = delegate;
        this.guard = new ListenerGuard(delegate);
    }

    @Override
    public void onCoalescedJoin(boolean fromCache) {
        guard.run("onCoalescedJoin", () -> delegate.onCoalescedJoin(fromCache));
    }

    @Override
    public String toString() {
        return "guarded(" + delegate + ")";
    }
}
