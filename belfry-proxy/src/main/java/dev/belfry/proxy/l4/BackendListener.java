package dev.belfry.proxy.l4;

/**
 * Told of each backend connect's outcome: the hook a connect-time histogram and an error list plug
 * into. Called on an event loop; must be quick and must not throw.
 */
public interface BackendListener {
    /** A connect to {@code backend} succeeded after {@code nanos}. */
    void connected(BackendStats backend, long nanos);

    /**
     * A connect to {@code backend} failed (refused, unreachable, timed out), the failures that count
     * in {@link BackendStats#connectFailures()}.
     */
    void failed(BackendStats backend, Throwable cause);
}
