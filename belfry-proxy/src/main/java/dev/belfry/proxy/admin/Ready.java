package dev.belfry.proxy.admin;

import java.util.ArrayList;
import java.util.List;

/** The readiness rule shared by {@code /ready}, {@code /health}, the dashboard and {@code belfry_ready}. */
final class Ready {
    private Ready() {}

    /**
     * Why the proxy is not ready, or an empty list if it is: ready means a configuration is loaded, the
     * proxy is not draining and every cluster has at least one healthy backend.
     */
    static List<String> reasons(ProxyStatus status, List<ClusterStatus> clusters) {
        List<String> reasons = new ArrayList<>();
        if (!status.configLoaded()) {
            reasons.add("configuration not loaded");
        }
        if (status.draining()) {
            reasons.add("draining");
        }
        for (ClusterStatus cluster : clusters) {
            if (cluster.healthyBackends() == 0) {
                reasons.add("cluster " + cluster.name() + " has no healthy backend");
            }
        }
        return reasons;
    }
}
