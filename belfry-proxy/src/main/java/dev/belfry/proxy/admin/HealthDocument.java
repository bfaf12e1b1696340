package dev.belfry.proxy.admin;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@code /health} document: the proxy's whole state, written as JSON by {@link AdminJson} with
 * snake_case names in the order of the record components. The records mirror the status records
 * with the values an operator reads (labels, counts, sums) rather than their Java types.
 */
record HealthDocument(
        boolean ready,
        List<String> notReadyReasons,
        boolean configLoaded,
        boolean draining,
        @Nullable Reload lastReload,
        List<Listener> listeners,
        List<Cluster> clusters,
        List<ErrorEntry> recentErrors) {

    /** The document for {@code status} now. */
    static HealthDocument of(ProxyStatus status) {
        List<ClusterStatus> clusterStatuses = status.clusters();
        List<String> reasons = Ready.reasons(status, clusterStatuses);
        ReloadResult reload = status.lastReload();
        List<Listener> listeners = new ArrayList<>();
        for (ListenerStatus listener : status.listeners()) {
            listeners.add(new Listener(
                    listener.name(),
                    listener.address(),
                    listener.cluster(),
                    listener.activeConnections(),
                    listener.totalConnections(),
                    listener.rejectedConnections()));
        }
        List<Cluster> clusters = new ArrayList<>();
        for (ClusterStatus cluster : clusterStatuses) {
            List<Backend> backends = new ArrayList<>();
            for (BackendStatus backend : cluster.backends()) {
                backends.add(new Backend(
                        backend.address(),
                        backend.state().label(),
                        backend.healthy(),
                        backend.activeConnections(),
                        backend.connectFailures(),
                        backend.lastError(),
                        backend.bytesToBackend(),
                        backend.bytesToClient()));
            }
            clusters.add(new Cluster(cluster.name(), cluster.healthyBackends(), backends));
        }
        List<ErrorEntry> errors = new ArrayList<>();
        for (RecentError error : status.recentErrors()) {
            errors.add(new ErrorEntry(error.at().toString(), error.source(), error.message()));
        }
        return new HealthDocument(
                reasons.isEmpty(),
                reasons,
                status.configLoaded(),
                status.draining(),
                reload == null ? null : new Reload(reload.ok(), reload.at().toString(), reload.problems()),
                listeners,
                clusters,
                errors);
    }

    /** The last reload; {@code at} is an ISO-8601 instant. */
    record Reload(boolean ok, String at, List<String> problems) {}

    record Listener(
            String name,
            String address,
            String cluster,
            long activeConnections,
            long totalConnections,
            long rejectedConnections) {}

    record Cluster(String name, int healthyBackends, List<Backend> backends) {}

    /** A backend; {@code state} is {@link BackendState#label()}, {@code lastError} may be null. */
    record Backend(
            String address,
            String state,
            boolean healthy,
            long activeConnections,
            long connectFailures,
            @Nullable String lastError,
            long bytesClientToBackend,
            long bytesBackendToClient) {}

    /** A recent error; {@code at} is an ISO-8601 instant. */
    record ErrorEntry(String at, String source, String message) {}
}
