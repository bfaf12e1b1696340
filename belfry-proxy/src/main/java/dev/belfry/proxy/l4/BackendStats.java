package dev.belfry.proxy.l4;

import dev.belfry.health.HealthState;
import dev.belfry.health.HealthStatus;
import dev.belfry.proxy.config.Addresses;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Counters of one backend of one cluster, for metrics and the health page: open connections,
 * connects and their failures and time, bytes each way, and health.
 *
 * <p>They survive a reload for a backend that stays in its cluster. Thread-safe; reads are
 * snapshots. Connect times also go to the engine's {@link BackendListener}, if one is
 * set, for a histogram.
 */
public final class BackendStats {
    private final String cluster;
    private final InetSocketAddress address;
    private final String logName;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder connects = new LongAdder();
    private final LongAdder connectNanos = new LongAdder();
    private final LongAdder connectFailures = new LongAdder();
    private final LongAdder bytesToBackend = new LongAdder();
    private final LongAdder bytesFromBackend = new LongAdder();
    private volatile @Nullable Supplier<HealthState> health;
    private volatile @Nullable Throwable lastConnectFailure;

    BackendStats(String cluster, InetSocketAddress address) {
        this.cluster = cluster;
        this.address = address;
        this.logName = cluster + "/" + Addresses.format(address);
    }

    /** How the access log names it: {@code cluster/host:port}. */
    String logName() {
        return logName;
    }

    /** The cluster's name. */
    public String cluster() {
        return cluster;
    }

    /** The backend's address. */
    public InetSocketAddress address() {
        return address;
    }

    /** Connections to it open now. */
    public int connectionsActive() {
        return active.get();
    }

    /** Successful connects since start. */
    public long connects() {
        return connects.sum();
    }

    /** The sum of the successful connects' durations, in nanoseconds. */
    public long connectNanosTotal() {
        return connectNanos.sum();
    }

    /** Why the most recent counted connect failure failed, or null if none has. */
    public @Nullable Throwable lastConnectFailure() {
        return lastConnectFailure;
    }

    /** Failed connects (refused, unreachable, timed out) since start. */
    public long connectFailures() {
        return connectFailures.sum();
    }

    /** Bytes relayed from clients to this backend. */
    public long bytesToBackend() {
        return bytesToBackend.sum();
    }

    /** Bytes relayed from this backend to clients. */
    public long bytesFromBackend() {
        return bytesFromBackend.sum();
    }

    /** Its health as its cluster's monitor sees it; {@code null} before it joined a balancer. */
    public @Nullable HealthState health() {
        Supplier<HealthState> source = health;
        return source == null ? null : source.get();
    }

    /** Whether it is in rotation (healthy, or back on probation after an ejection). */
    public boolean healthy() {
        HealthState state = health();
        return state == null || state.status().inRotation();
    }

    /** Its health status, {@link HealthStatus#HEALTHY} before it joined a balancer. */
    public HealthStatus status() {
        HealthState state = health();
        return state == null ? HealthStatus.HEALTHY : state.status();
    }

    void health(Supplier<HealthState> source) {
        this.health = source;
    }

    void connected(long nanos) {
        connects.increment();
        connectNanos.add(nanos);
        active.incrementAndGet();
    }

    void disconnected() {
        active.decrementAndGet();
    }

    void connectFailed(Throwable cause) {
        lastConnectFailure = cause;
        connectFailures.increment();
    }

    void sent(long bytes) {
        bytesToBackend.add(bytes);
    }

    void received(long bytes) {
        bytesFromBackend.add(bytes);
    }

    @Override
    public String toString() {
        return "BackendStats[" + cluster + "/" + address + ", active=" + active + ", failures=" + connectFailures + ", "
                + status() + "]";
    }
}
