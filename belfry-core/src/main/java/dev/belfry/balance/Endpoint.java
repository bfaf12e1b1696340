package dev.belfry.balance;

import dev.belfry.Service;
import dev.belfry.load.Loaded;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint as the balancer holds it: its stable key, the service the balancer calls (measured
 * by a load if the strategy uses one), its weight and its in-flight count.
 */
final class Endpoint<Req, Res> {
    final Object key;
    final Service<Req, Res> raw;
    final Service<Req, Res> service;
    final @Nullable Loaded<Req, Res> loaded;
    final int weight;
    // When its slow start began: when it was added, or when it came back (Balancer#restartSlowStart).
    volatile long addedAt;
    final AtomicInteger inflight = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    // Set once, when the endpoint leaves the set or is replaced; it closes when its work drains.
    volatile boolean retired;

    Endpoint(Object key, Service<Req, Res> raw, @Nullable Loaded<Req, Res> loaded, int weight, long addedAt) {
        this.key = key;
        this.raw = raw;
        this.loaded = loaded;
        this.service = loaded != null ? loaded : raw;
        this.weight = weight;
        this.addedAt = addedAt;
    }

    /** Closes the service once; returns whether this call closed it. */
    boolean closeOnce() {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        try {
            service.close();
        } catch (RuntimeException e) {
            System.getLogger(Balancer.class.getName())
                    .log(System.Logger.Level.WARNING, "closing endpoint " + key + " failed", e);
        }
        return true;
    }

    @Override
    public String toString() {
        return "Endpoint[" + key + ", weight=" + weight + ", inflight=" + inflight + (retired ? ", retired" : "") + "]";
    }
}
