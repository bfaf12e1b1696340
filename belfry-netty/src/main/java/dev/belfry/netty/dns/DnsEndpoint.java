package dev.belfry.netty.dns;

import dev.belfry.Checks;
import java.net.InetSocketAddress;

/**
 * One endpoint found in DNS: a resolved address and port, with the priority and weight a balancer
 * may use.
 *
 * <p>Address records (A, AAAA) give every endpoint priority 0 and weight 1. The address keeps the
 * host name it was resolved from ({@link InetSocketAddress#getHostString()}), for TLS server names
 * and diagnostics; equality ignores it.
 *
 * @param address the resolved address and port
 * @param priority lower is preferred; 0 for address records
 * @param weight the relative share among endpoints of equal priority, at least 1
 */
public record DnsEndpoint(InetSocketAddress address, int priority, int weight) {

    /** Validates the parts: a resolved address, a non-negative priority and a positive weight. */
    public DnsEndpoint {
        Checks.notNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address must be resolved, was " + address);
        }
        Checks.nonNegative(priority, "priority");
        Checks.positive(weight, "weight");
    }

    /** An endpoint from an address record: priority 0, weight 1. */
    public static DnsEndpoint of(InetSocketAddress address) {
        return new DnsEndpoint(address, 0, 1);
    }
}
