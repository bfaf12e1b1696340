package dev.belfry.http;

import dev.belfry.ServiceException;
import org.jspecify.annotations.Nullable;

/**
 * The request was well-formed HTTP but its content could not be used (a JSON body that does not
 * parse, a parameter of the wrong type); a server answers 400 with this message, which is written
 * to be shown to the client.
 */
public final class BadRequestException extends ServiceException {
    private static final long serialVersionUID = 1L;

    public BadRequestException(String message) {
        super(message);
    }

    public BadRequestException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
