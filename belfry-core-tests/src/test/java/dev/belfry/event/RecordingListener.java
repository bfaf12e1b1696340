package dev.belfry.event;

import dev.belfry.breaker.CircuitState;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A listener that writes every event down as a short string, for tests to compare. */
public final class RecordingListener implements ResilienceListener {
    private final List<String> events = new ArrayList<>();

    @Override
    public synchronized void onRetry(int attempt, @Nullable Throwable cause) {
        events.add("retry " + attempt
                + (cause == null ? "" : " after " + cause.getClass().getSimpleName()));
    }

    @Override
    public synchronized void onBudgetExhausted() {
        events.add("budget exhausted");
    }

    @Override
    public synchronized void onBreakerStateChange(CircuitState from, CircuitState to) {
        events.add(from + " -> " + to);
    }

    @Override
    public synchronized void onHedgeSent(int extra) {
        events.add("hedge " + extra);
    }

    @Override
    public synchronized void onCoalescedJoin(boolean fromCache) {
        events.add(fromCache ? "cache hit" : "joined");
    }

    /** The events so far, in order. */
    public synchronized List<String> events() {
        return List.copyOf(events);
    }
}
