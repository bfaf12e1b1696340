package dev.belfry.netty.check;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * A health check reached its endpoint but got no acceptable answer: the connection closed before a
 * response, the answer was not HTTP, or (the subclass {@link UnexpectedStatusException}) the status
 * was not the expected one.
 */
public class CheckFailedException extends IOException {
    private static final long serialVersionUID = 1L;

    /** A failure described by {@code message}. */
    public CheckFailedException(String message) {
        super(message);
    }

    /** A failure described by {@code message}, caused by {@code cause}. */
    public CheckFailedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
