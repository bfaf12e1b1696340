package dev.belfry.channel;

/** Where a {@link WarmPool} stands, as its health listeners see it. */
public enum PoolState {
    /** Fewer than {@code healthyMin} members are healthy (the state a pool starts in). */
    UNHEALTHY,
    /** At least {@code healthyMin} members are healthy. */
    HEALTHY,
    /**
     * Fewer than {@code criticalMin} members are healthy after that many once were: connected but
     * unhealthy members serve requests and are not evicted. Also unhealthy.
     */
    DEGRADED;

    /** Whether the pool counts as healthy (for a readiness endpoint, say). */
    public boolean healthy() {
        return this == HEALTHY;
    }
}
