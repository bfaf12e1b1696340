package dev.belfry.proxy.l4;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one listener, for metrics: open, accepted and rejected client connections.
 *
 * <p>They survive a reload that keeps the listener (by name). Thread-safe; reads are snapshots.
 */
public final class ListenerStats {
    private final String name;
    private volatile InetSocketAddress address;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder total = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder proxyHeaderFailures = new LongAdder();
    private final LongAdder noBackend = new LongAdder();

    ListenerStats(String name, InetSocketAddress address) {
        this.name = name;
        this.address = address;
    }

    /** The listener's name. */
    public String name() {
        return name;
    }

    /** The address it listens on (the bound one, so a port 0 in the config shows the real port). */
    public InetSocketAddress address() {
        return address;
    }

    void address(InetSocketAddress bound) {
        this.address = bound;
    }

    /** Client connections open now. */
    public int connectionsActive() {
        return active.get();
    }

    /** Client connections accepted since start (rejected ones excluded). */
    public long connectionsTotal() {
        return total.sum();
    }

    /** Client connections closed at once because the listener was at its maximum. */
    public long connectionsRejected() {
        return rejected.sum();
    }

    /** Client connections closed for a missing, malformed or late PROXY protocol header. */
    public long proxyHeaderFailures() {
        return proxyHeaderFailures.sum();
    }

    /** Client connections closed because no backend could be connected. */
    public long noBackendFailures() {
        return noBackend.sum();
    }

    /** Admits one more connection if below {@code max}; counts a rejection otherwise. */
    boolean admit(int max) {
        if (active.incrementAndGet() > max) {
            active.decrementAndGet();
            rejected.increment();
            return false;
        }
        total.increment();
        return true;
    }

    void closed() {
        active.decrementAndGet();
    }

    void proxyHeaderFailed() {
        proxyHeaderFailures.increment();
    }

    void noBackend() {
        noBackend.increment();
    }

    @Override
    public String toString() {
        return "ListenerStats[" + name + " " + address + ", active=" + active + ", total=" + total + ", rejected="
                + rejected + "]";
    }
}
