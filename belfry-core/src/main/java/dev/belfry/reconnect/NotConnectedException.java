package dev.belfry.reconnect;

import dev.belfry.UnprocessedException;

/**
 * The service is still connecting and the {@link Reconnect.Policy#FAIL_FAST} policy chose not to
 * wait, so the request was never sent.
 */
public final class NotConnectedException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    /** A failure with {@code message}. */
    public NotConnectedException(String message) {
        super(message);
    }
}
