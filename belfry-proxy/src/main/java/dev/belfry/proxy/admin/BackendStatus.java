package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one backend of a cluster.
 *
 * @param address the backend's address as configured or discovered, e.g. {@code 10.0.0.7:8080}; unique
 *     within its cluster, and the {@code backend} label of its metrics
 * @param state its health
 * @param activeConnections relayed connections open to it now
 * @param connectFailures connection attempts to it that failed (refused, timed out, reset), ever
 * @param lastError the most recent failure seen on it, or null if none
 * @param traffic bytes relayed through it, one entry per listener whose clients reached it
 */
public record BackendStatus(
        String address,
        BackendState state,
        long activeConnections,
        long connectFailures,
        @Nullable String lastError,
        List<Traffic> traffic) {
    public BackendStatus {
        Checks.notNull(address, "address");
        Checks.notNull(state, "state");
        traffic = List.copyOf(Checks.notNull(traffic, "traffic"));
    }

    /** Whether it takes new connections: only {@link BackendState#HEALTHY} does. */
    public boolean healthy() {
        return state == BackendState.HEALTHY;
    }

    /** Bytes read from clients and written to this backend, over all listeners. */
    public long bytesToBackend() {
        long sum = 0;
        for (Traffic t : traffic) {
            sum += t.clientToBackend();
        }
        return sum;
    }

    /** Bytes read from this backend and written to clients, over all listeners. */
    public long bytesToClient() {
        long sum = 0;
        for (Traffic t : traffic) {
            sum += t.backendToClient();
        }
        return sum;
    }
}
