package dev.belfry.breaker;

import dev.belfry.UnprocessedException;
import java.time.Duration;

/**
 * The circuit breaker refused the request without sending it: the circuit is open, or half-open
 * with all its probe calls in flight. Safe to retry elsewhere, or here after {@link #retryAfter}.
 */
public final class CircuitOpenException extends UnprocessedException {
    private static final long serialVersionUID = 1L;

    private final String reason;
    private final Duration retryAfter;

    /**
     * An exception for a circuit opened because of {@code reason}, which stays open for {@code
     * retryAfter} more (zero when it is half-open and waits for its probes).
     */
    public CircuitOpenException(String reason, Duration retryAfter) {
        super(message(reason, retryAfter));
        this.reason = reason;
        this.retryAfter = retryAfter;
    }

    private static String message(String reason, Duration retryAfter) {
        if (retryAfter.isZero() || retryAfter.isNegative()) {
            return "circuit is half-open and all its probe calls are in flight (opened after " + reason + ")";
        }
        return "circuit is open for another " + retryAfter.toMillis() + " ms (opened after " + reason + ")";
    }

    /** Why the circuit opened, e.g. "5 consecutive failures". */
    public String reason() {
        return reason;
    }

    /** How long the circuit stays open; zero if it is half-open. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
