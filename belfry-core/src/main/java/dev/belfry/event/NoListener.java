package dev.belfry.event;

/** The listener that ignores every event. */
enum NoListener implements ResilienceListener {
    INSTANCE;

    @Override
    public String toString() {
        return "ResilienceListener.none()";
    }
}
