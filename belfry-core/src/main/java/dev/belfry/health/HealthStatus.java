package dev.belfry.health;

/** Where an endpoint stands with its health monitor. */
public enum HealthStatus {
    /** In rotation. */
    HEALTHY,
    /** Failed {@code fall} active checks in a row; out of rotation until it passes {@code rise}. */
    UNHEALTHY,
    /** Ejected by outlier detection; out of rotation until its ejection time ends. */
    EJECTED,
    /** Back in rotation after an ejection, on probation: the next failure ejects it again. */
    PROBING;

    /** Whether an endpoint in this status takes traffic (outside panic mode). */
    public boolean inRotation() {
        return this == HEALTHY || this == PROBING;
    }
}
