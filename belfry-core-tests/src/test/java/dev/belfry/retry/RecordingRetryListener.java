package dev.belfry.retry;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A retry listener that writes every event down as a short string, for tests to compare. */
final class RecordingRetryListener implements RetryListener {
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

    /** The events so far, in order. */
    synchronized List<String> events() {
        return List.copyOf(events);
    }
}
