package dev.belfry.http;

import dev.belfry.ServiceException;

/** The connection (or HTTP/2 stream) closed before a message or its body was complete. */
public final class ConnectionClosedException extends ServiceException {
    private static final long serialVersionUID = 1L;

    public ConnectionClosedException(String message) {
        super(message);
    }
}
