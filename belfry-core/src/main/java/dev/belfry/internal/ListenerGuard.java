package dev.belfry.internal;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs one listener's callbacks and catches what they throw, so a metrics bug never leaves a
 * caller's future uncompleted or a layer's lock half-updated.
 *
 * <p>The first failure of a listener is logged at {@code WARNING} with its stack trace; later ones
 * at {@code DEBUG}, so a listener that fails on every event cannot flood the log from a hot path.
 * Errors are not caught. Thread-safe.
 */
public final class ListenerGuard {
    private static final System.Logger LOG = System.getLogger("dev.belfry.listener");

    private final Object listener;
    private final AtomicBoolean warned = new AtomicBoolean();

    /** A guard for {@code listener}, which names it in the log. */
    public ListenerGuard(Object listener) {
        this.listener = listener;
    }

    /** Runs {@code callback} (one call on the listener, named {@code event}), logging what it throws. */
    public void run(String event, Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            System.Logger.Level level =
                    warned.compareAndSet(false, true) ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG;
            LOG.log(level, "listener " + listener + " failed on " + event + "; the event is dropped", e);
        }
    }
}
