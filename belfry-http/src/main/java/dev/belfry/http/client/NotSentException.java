package dev.belfry.http.client;

import dev.belfry.UnprocessedException;

/**
 * The request certainly did not reach the server's application: the keep-alive connection was found
 * closed before the request's first byte was written, the HTTP/2 stream was above the last stream id
 * of the server's GOAWAY, or the server refused the stream ({@code REFUSED_STREAM}). Safe to repeat
 * even for requests that are not idempotent, which is what the core's retry does with it.
 */
public final class NotSentException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    public NotSentException(String message) {
        super(message);
    }
}
