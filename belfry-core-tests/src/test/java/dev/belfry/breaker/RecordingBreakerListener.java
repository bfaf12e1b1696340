package dev.belfry.breaker;

import java.util.ArrayList;
import java.util.List;

/** A breaker listener that writes every transition down as "FROM -> TO", for tests to compare. */
final class RecordingBreakerListener implements BreakerListener {
    private final List<String> events = new ArrayList<>();

    @Override
    public synchronized void onStateChange(CircuitState from, CircuitState to) {
        events.add(from + " -> " + to);
    }

    /** The transitions so far, in order. */
    synchronized List<String> events() {
        return List.copyOf(events);
    }
}
