package dev.belfry.timeout;

import dev.belfry.ServiceException;
import java.time.Duration;

/**
 * The request did not complete within the timeout. The inner call was cancelled; it may or may not
 * have been processed, so it is not safe to repeat unless the request is idempotent.
 */
public final class ElapsedException extends ServiceException {
    private static final long serialVersionUID = 1L;

    private final Duration limit;

    public ElapsedException(Duration limit) {
        super("request timed out after " + limit.toMillis() + " ms");
        this.limit = limit;
    }

    /** The timeout that elapsed. */
    public Duration limit() {
        return limit;
    }
}
