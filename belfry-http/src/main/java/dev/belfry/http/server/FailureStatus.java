package dev.belfry.http.server;

import dev.belfry.Futures;
import dev.belfry.OverloadedException;
import dev.belfry.breaker.CircuitOpenException;
import dev.belfry.http.BadRequestException;
import dev.belfry.http.BodyTooLargeException;
import dev.belfry.http.HttpResponse;
import dev.belfry.timeout.ElapsedException;
import org.jspecify.annotations.Nullable;

/**
 * Turns a failed response future into the response the client gets, with no stack trace.
 *
 * <p>{@link OverloadedException} and {@link CircuitOpenException} are 503 (the latter with {@code
 * Retry-After}), {@link ElapsedException} 504, {@link BodyTooLargeException} 413, {@link
 * BadRequestException} 400 with its message, anything else 500 with a generic message. Only 400
 * shows the exception's message: it is written for the client; the others might leak internals.
 */
public final class FailureStatus {
    private FailureStatus() {}

    /** The status for {@code failure} (unwrapped from {@code CompletionException}). */
    public static int of(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        if (cause instanceof OverloadedException || cause instanceof CircuitOpenException) {
            return 503;
        }
        if (cause instanceof ElapsedException) {
            return 504;
        }
        if (cause instanceof BodyTooLargeException) {
            return 413;
        }
        if (cause instanceof BadRequestException) {
            return 400;
        }
        return 500;
    }

    /** The response for {@code failure}: its status and a short plain-text explanation. */
    public static HttpResponse response(Throwable failure) {
        Throwable cause = Futures.unwrap(failure);
        int status = of(cause);
        var builder = HttpResponse.status(status);
        if (cause instanceof CircuitOpenException open) {
            long seconds = Math.max(1, (open.retryAfter().toMillis() + 999) / 1000);
            builder.header("retry-after", Long.toString(seconds));
        }
        String text = switch (status) {
            case 400 -> "bad request: " + cause.getMessage();
            case 413 -> "request body too large";
            case 503 -> "service unavailable";
            case 504 -> "timed out";
            default -> "internal server error";
        };
        return builder.text(text + "\n").build();
    }

    /**
     * What a server sends for a call that completed with {@code response} or {@code failure}: the
     * response, or the failure's (a handler's unexpected exception, or a null response, logged
     * with {@code log} as a warning, since no stack trace goes to the client).
     */
    static HttpResponse answer(@Nullable HttpResponse response, @Nullable Throwable failure, System.Logger log) {
        if (failure == null && response != null) {
            return response;
        }
        Throwable cause = failure != null ? failure : new NullPointerException("null response");
        if (of(cause) == 500) {
            log.log(System.Logger.Level.WARNING, "request failed with an unexpected exception", Futures.unwrap(cause));
        }
        return response(cause);
    }
}
