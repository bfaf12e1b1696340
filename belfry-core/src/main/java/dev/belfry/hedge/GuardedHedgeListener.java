package dev.belfry.hedge;

import dev.belfry.internal.ListenerGuard;

/** Forwards events and logs what the delegate throws: a metrics bug must not hang a request. */
final class GuardedHedgeListener implements HedgeListener {
    private final HedgeListener delegate;
    private final ListenerGuard guard;

    GuardedHedgeListener(HedgeListener delegate) {
        this.delegate = delegate;
        this.guard = new ListenerGuard(delegate);
    }

    @Override
    public void onHedgeSent(int extra) {
        guard.run("onHedgeSent", () -> delegate.onHedgeSent(extra));
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
