package dev.belfry.channel;

import dev.belfry.Checks;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The warm pools of a process (or of one part of it), by name: what the {@code /debug/channels}
 * page ({@code dev.belfry.channel.diag.ChannelDiagnostics}) and the metrics ({@code
 * dev.belfry.channel.metrics.ChannelMetrics}) read.
 *
 * <p>A pool built with {@link WarmPool.Builder#registry} joins at {@code build()} and leaves when
 * it is closed; {@link #register} adds one by hand. Names are unique within a registry, since they
 * label metrics and page sections. There is no global registry: the application creates one and
 * passes it where it is needed. Thread-safe.
 */
public final class ChannelRegistry {
    private final Map<String, WarmPool<?, ?, ?>> pools = new LinkedHashMap<>();

    /** An empty registry. */
    public ChannelRegistry() {}

    /**
     * Adds {@code pool}; the returned handle removes it (idempotent).
     *
     * @throws IllegalArgumentException if a pool of the same name is registered
     */
    public AutoCloseable register(WarmPool<?, ?, ?> pool) {
        Checks.notNull(pool, "pool");
        synchronized (pools) {
            WarmPool<?, ?, ?> existing = pools.putIfAbsent(pool.name(), pool);
            if (existing != null) {
                throw new IllegalArgumentException("a channel named '" + pool.name()
                        + "' is already registered; channel names label metrics and must be unique");
            }
        }
        return () -> {
            synchronized (pools) {
                pools.remove(pool.name(), pool);
            }
        };
    }

    /** The registered pools, in the order they joined. */
    public List<WarmPool<?, ?, ?>> pools() {
        synchronized (pools) {
            return List.copyOf(new ArrayList<>(pools.values()));
        }
    }
}
