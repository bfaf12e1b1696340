package dev.belfry.balance;

import dev.belfry.UnprocessedException;

/**
 * No endpoint could admit the request: the set was empty, or every endpoint was busy, unhealthy
 * or closed, for as long as the balancer was configured to wait.
 *
 * <p>The request was never sent, so it is safe to retry, later or elsewhere.
 */
public final class NoEndpointsException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    private final int endpoints;

    /** A failure with {@code message}, when the balancer had {@code endpoints} endpoints. */
    public NoEndpointsException(String message, int endpoints) {
        super(message);
        this.endpoints = endpoints;
    }

    /** How many endpoints the balancer had when it gave up (none of them could admit). */
    public int endpoints() {
        return endpoints;
    }
}
