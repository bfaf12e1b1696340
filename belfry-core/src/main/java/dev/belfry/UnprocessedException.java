package dev.belfry;

import org.jspecify.annotations.Nullable;

/**
 * A failure that certainly happened before the request was sent: it is safe to repeat.
 *
 * <p>Retries and requeues may repeat a request that failed with this exception even when the
 * request is not idempotent. Layers that reject before forwarding (limits, load shedding, closed
 * services, failed connects) fail with a subclass of it.
 */
public class UnprocessedException extends ServiceException {
    private static final long serialVersionUID = 1L;

    public UnprocessedException(String message) {
        super(message);
    }

    public UnprocessedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
