package dev.belfry.coalesce;

import java.util.ArrayList;
import java.util.List;

/** A coalescing listener that writes every event down as a short string, for tests to compare. */
final class RecordingCoalesceListener implements CoalesceListener {
    private final List<String> events = new ArrayList<>();

    @Override
    public synchronized void onCoalescedJoin(boolean fromCache) {
        events.add(fromCache ? "cache hit" : "joined");
    }

    /** The events so far, in order. */
    synchronized List<String> events() {
        return List.copyOf(events);
    }
}
