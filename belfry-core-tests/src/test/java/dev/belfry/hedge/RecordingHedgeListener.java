package dev.belfry.hedge;

import java.util.ArrayList;
import java.util.List;

/** A hedge listener that writes every event down as a short string, for tests to compare. */
final class RecordingHedgeListener implements HedgeListener {
    private final List<String> events = new ArrayList<>();

    @Override
    public synchronized void onHedgeSent(int extra) {
        events.add("hedge " + extra);
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
