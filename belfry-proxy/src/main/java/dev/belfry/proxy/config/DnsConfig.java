package dev.belfry.proxy.config;

import dev.belfry.Checks;

/**
 * Backends discovered through DNS: every A/AAAA address of {@code name}, at {@code port}, following
 * the records' TTLs.
 *
 * @param name the host name to resolve
 * @param port the backends' port
 */
public record DnsConfig(String name, int port) {
    public DnsConfig {
        Checks.notNull(name, "name");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
        }
    }
}
