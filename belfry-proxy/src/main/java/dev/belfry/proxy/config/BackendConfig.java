package dev.belfry.proxy.config;

import dev.belfry.Checks;
import java.net.InetSocketAddress;

/**
 * One static backend.
 *
 * @param address where to connect: a literal IP address, or a host name kept {@linkplain
 *     InetSocketAddress#isUnresolved() unresolved} for the connector to resolve when it connects
 * @param weight its share relative to the others, 1 to 10 000 (default 1)
 */
public record BackendConfig(InetSocketAddress address, int weight) {
    public BackendConfig {
        Checks.notNull(address, "address");
        if (weight < 1 || weight > 10_000) {
            throw new IllegalArgumentException("weight must be between 1 and 10000, was " + weight);
        }
    }
}
