package dev.belfry.proxy.admin;

import java.util.Locale;

/** A backend's health as the proxy sees it, combining active health checks and outlier ejection. */
public enum BackendState {
    /** Passing health checks and not ejected: receives new connections. */
    HEALTHY,
    /** Failing active health checks: receives no new connections until it rises again. */
    UNHEALTHY,
    /** Ejected by outlier detection after consecutive failures: receives none until the ejection ends. */
    EJECTED,
    /** Back from ejection or not yet checked, on trial: not counted as healthy until it proves itself. */
    PROBING;

    /** The state as shown on {@code /health} and the dashboard: the lower-case name. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
