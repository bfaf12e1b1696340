package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import java.util.List;

/**
 * A snapshot of one cluster: its name and its backends in a stable order.
 *
 * @param name the cluster's configured name, the {@code cluster} label of its metrics
 * @param backends its backends now (those discovered through DNS included); may be empty
 */
public record ClusterStatus(String name, List<BackendStatus> backends) {
    public ClusterStatus {
        Checks.notNull(name, "name");
        backends = List.copyOf(Checks.notNull(backends, "backends"));
    }

    /** How many of its backends are {@linkplain BackendStatus#healthy() healthy}. */
    public int healthyBackends() {
        int healthy = 0;
        for (BackendStatus backend : backends) {
            if (backend.healthy()) {
                healthy++;
            }
        }
        return healthy;
    }
}
