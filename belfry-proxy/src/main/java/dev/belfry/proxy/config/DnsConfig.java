package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Backends discovered through DNS: every A/AAAA address of {@code name}, at {@code port}, following
 * the records' TTLs.
 *
 * @param name the host name to resolve
 * @param port the backends' port
 * @param servers the DNS servers to ask, in order; empty (the default) for the system's
 *     ({@code /etc/resolv.conf})
 */
public record DnsConfig(String name, int port, List<InetSocketAddress> servers) {
    /** Discovery through the system's DNS servers. */
    public DnsConfig(String name, int port) {
        this(name, port, List.of());
    }

    public DnsConfig {
        Checks.notNull(name, "name");
        servers = List.copyOf(servers);
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
        }
    }
}
