package dev.belfry.retry;

/** The retry listener that ignores every event. */
enum NoRetryListener implements RetryListener {
    INSTANCE;

    @Override
    public String toString() {
        return "RetryListener.none()";
    }
}
