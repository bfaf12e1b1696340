package dev.belfry.proxy.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A short human-readable account of a configuration: what listens where, and which backends each
 * cluster balances over. Used by {@code belfry check}, and fit for a startup log line.
 */
public final class ConfigSummary {
    private ConfigSummary() {}

    /**
     * Describes {@code config}: a first line of counts ({@code "1 listener, 1 cluster, 3 static
     * backends"}), then one line per listener, per cluster and for the admin server. Addresses are
     * written as in the config file ({@code host:port}, IPv6 in brackets, compressed).
     */
    public static List<String> lines(ProxyConfig config) {
        int backends = 0;
        for (ClusterConfig cluster : config.clusters()) {
            backends += cluster.backends().size();
        }
        List<String> lines = new ArrayList<>();
        lines.add(count(config.listeners().size(), "listener") + ", "
                + count(config.clusters().size(), "cluster") + ", " + count(backends, "static backend"));
        Set<String> used = new HashSet<>();
        for (ListenerConfig listener : config.listeners()) {
            used.add(listener.cluster());
            lines.add("listener " + listener.name() + ": " + Addresses.format(listener.listen()) + " -> cluster "
                    + listener.cluster());
        }
        for (ClusterConfig cluster : config.clusters()) {
            StringBuilder line = new StringBuilder(
                    "cluster " + cluster.name() + ": " + cluster.balancer().configName() + " over ");
            DnsConfig dns = cluster.dns();
            if (dns != null) {
                line.append("DNS ").append(dns.name()).append(" port ").append(dns.port());
            } else {
                boolean first = true;
                for (BackendConfig backend : cluster.backends()) {
                    line.append(first ? "" : ", ").append(Addresses.format(backend.address()));
                    if (backend.weight() != 1) {
                        line.append(" (weight ").append(backend.weight()).append(')');
                    }
                    first = false;
                }
            }
            if (!used.contains(cluster.name())) {
                line.append(" (no listener uses it)");
            }
            lines.add(line.toString());
        }
        lines.add("admin: " + Addresses.format(config.admin().listen()));
        return lines;
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
