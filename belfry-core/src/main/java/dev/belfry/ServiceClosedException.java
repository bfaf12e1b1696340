package dev.belfry;

import org.jspecify.annotations.Nullable;

/** The service was closed before it could admit or finish the request. */
public class ServiceClosedException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    public ServiceClosedException(String message) {
        super(message);
    }

    public ServiceClosedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
