package dev.belfry;

/**
 * The service had no capacity for the request and the layer chose to reject rather than wait.
 *
 * <p>Made by {@code LoadShed}, by a concurrency limit or rate limit whose queue is full, and by a
 * full buffer. The request was never sent, so it is safe to retry elsewhere.
 */
public class OverloadedException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    public OverloadedException(String message) {
        super(message);
    }
}
