package dev.belfry;

/** A snapshot of whether a {@link Service} would admit a request now. */
public enum Readiness {
    /** A call would be admitted at once. */
    READY,
    /** A call would wait (or a {@code tryCall} would return {@code null}). */
    BUSY,
    /** The service will never admit another request. */
    CLOSED;

    /** Combines the readiness of alternatives: ready if any is ready, closed only if all are. */
    public Readiness or(Readiness other) {
        if (this == READY || other == READY) {
            return READY;
        }
        if (this == BUSY || other == BUSY) {
            return BUSY;
        }
        return CLOSED;
    }

    /** Combines the readiness of stages in series: the least ready of the two. */
    public Readiness and(Readiness other) {
        if (this == CLOSED || other == CLOSED) {
            return CLOSED;
        }
        if (this == BUSY || other == BUSY) {
            return BUSY;
        }
        return READY;
    }
}
