package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A whole, validated proxy configuration: an immutable snapshot, swapped atomically on reload.
 *
 * @param source where it was read from (for messages), or {@code null} for an embedded config
 * @param ioThreads event-loop threads (default: the number of cores)
 * @param admin the admin server
 * @param listeners the listeners, each naming a cluster that exists
 * @param clusters the clusters
 * @param log logging settings
 */
public record ProxyConfig(
        @Nullable Path source,
        int ioThreads,
        AdminConfig admin,
        List<ListenerConfig> listeners,
        List<ClusterConfig> clusters,
        LogConfig log) {

    public ProxyConfig {
        Checks.positive(ioThreads, "io_threads");
        Checks.notNull(admin, "admin");
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
        Checks.notNull(log, "log");
    }

    /** The cluster named {@code name}, or {@code null}. */
    public @Nullable ClusterConfig cluster(String name) {
        for (ClusterConfig cluster : clusters) {
            if (cluster.name().equals(name)) {
                return cluster;
            }
        }
        return null;
    }
}
