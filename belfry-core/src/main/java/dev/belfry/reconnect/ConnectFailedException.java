package dev.belfry.reconnect;

import dev.belfry.UnprocessedException;

/**
 * The service could not be (re)created, so the request was never sent; the cause is the factory's
 * error.
 */
public final class ConnectFailedException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    /** A failure caused by the connect error {@code cause}. */
    public ConnectFailedException(Throwable cause) {
        super("connect failed, the request was not sent: " + cause, cause);
    }
}
