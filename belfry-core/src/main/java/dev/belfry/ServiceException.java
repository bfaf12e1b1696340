package dev.belfry;

import org.jspecify.annotations.Nullable;

/**
 * The root of every failure a Belfry layer itself causes.
 *
 * <p>Failures of the inner service pass through layers unchanged; an exception of this type means a
 * layer made the decision (a timeout, a rejection, an open circuit). Subclasses of {@link
 * UnprocessedException} additionally guarantee the request never reached the service below the
 * layer that failed it, so repeating it is safe.
 */
public abstract class ServiceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected ServiceException(String message) {
        super(message);
    }

    protected ServiceException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
