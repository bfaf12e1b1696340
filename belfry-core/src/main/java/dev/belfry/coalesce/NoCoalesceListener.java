package dev.belfry.coalesce;

/** The coalescing listener that ignores every event. */
enum NoCoalesceListener implements CoalesceListener {
    INSTANCE;

    @Override
    public String toString() {
        return "CoalesceListener.none()";
    }
}
