package dev.belfry.proxy.l4;

import dev.belfry.time.Clock;
import org.jspecify.annotations.Nullable;

/**
 * What a relay ({@link DirectRelay} or {@link Relay}) needs from the engine that accepted its connection: whether new connections
 * are admitted, the cluster to connect to, the clock, and the register of open relays (which drain
 * and close walk). The engine implements it privately, so relays never call back into {@link
 * L4Proxy} itself; tests give relays a fake.
 *
 * <p>Called on the relay's event loop; implementations must be thread-safe.
 */
interface RelayEngine {
    /** Whether new connections are admitted (false once the engine stops accepting, as in a drain). */
    boolean accepting();

    /**
     * Whether one more proxied connection fits the process's file-descriptor budget; when not, the
     * listeners pause (see {@link DescriptorBudget}).
     */
    default boolean withinDescriptorBudget() {
        return true;
    }

    /** The cluster named {@code name} in the configuration running now, or null if there is none. */
    @Nullable
    Cluster cluster(String name);

    /** The clock every relay reads time from. */
    Clock clock();

    /** A relay was set up for an accepted connection. */
    void opened(RelayBase relay);

    /** A relay closed both its sides. */
    void closed(RelayBase relay);
}
