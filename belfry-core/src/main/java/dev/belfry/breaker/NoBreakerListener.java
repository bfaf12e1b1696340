package dev.belfry.breaker;

/** The circuit breaker listener that ignores every event. */
enum NoBreakerListener implements BreakerListener {
    INSTANCE;

    @Override
    public String toString() {
        return "BreakerListener.none()";
    }
}
