package dev.belfry.proxy.admin;

import dev.belfry.Checks;

/**
 * A snapshot of one listener.
 *
 * @param name the listener's configured name, the {@code listener} label of its metrics
 * @param address where it listens, e.g. {@code 0.0.0.0:8080}
 * @param cluster the cluster it sends connections to
 * @param activeConnections client connections open now
 * @param totalConnections client connections accepted and relayed, ever (rejected ones excluded)
 * @param rejectedConnections client connections closed at once because a limit was reached, ever
 */
public record ListenerStatus(
        String name,
        String address,
        String cluster,
        long activeConnections,
        long totalConnections,
        long rejectedConnections) {
    public ListenerStatus {
        Checks.notNull(name, "name");
        Checks.notNull(address, "address");
        Checks.notNull(cluster, "cluster");
    }
}
