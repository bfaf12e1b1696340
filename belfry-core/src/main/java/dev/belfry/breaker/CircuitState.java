package dev.belfry.breaker;

/** The state of a {@link CircuitBreaker}. */
public enum CircuitState {
    /** Calls pass through; outcomes are counted. */
    CLOSED,
    /** Calls fail at once with {@link CircuitOpenException} until the open interval ends. */
    OPEN,
    /** A bounded number of probe calls pass through; their outcomes close or reopen the circuit. */
    HALF_OPEN
}
