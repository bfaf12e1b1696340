package dev.belfry.channel.metrics;

import dev.belfry.Checks;
import dev.belfry.channel.ChannelRegistry;
import dev.belfry.channel.PoolCounts;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.WarmPool;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Prometheus metrics of every pool in a {@link ChannelRegistry}, read at scrape time from each
 * pool's {@link WarmPool#counts()}, on a {@link PrometheusRegistry} the application passes (never the
 * default one). Labelled by {@code channel}, the pool's name.
 *
 * <table>
 *   <caption>The metrics</caption>
 *   <tr><th>name</th><th>type</th><th>meaning</th></tr>
 *   <tr><td>{@code client_channels_target}</td><td>gauge</td><td>members the pool aims for (warm_channels' name)</td></tr>
 *   <tr><td>{@code client_channels_current}</td><td>gauge</td><td>members it has, connecting ones included (warm_channels' name)</td></tr>
 *   <tr><td>{@code client_channels_healthy}</td><td>gauge</td><td>healthy members (warm_channels' name)</td></tr>
 *   <tr><td>{@code client_channels_opened}</td><td>gauge</td><td>members opened since the pool started (warm_channels' name;
 *       a gauge so the name stays exact, since the Java client adds {@code _total} to counters; it only grows)</td></tr>
 *   <tr><td>{@code client_channels_serving}</td><td>gauge</td><td>members taking requests</td></tr>
 *   <tr><td>{@code client_channels_degraded}</td><td>gauge</td><td>1 while the pool is in degraded mode</td></tr>
 *   <tr><td>{@code client_channels_up}</td><td>gauge</td><td>1 while the pool is healthy ({@code healthyMin} healthy members)</td></tr>
 *   <tr><td>{@code client_channels_resolution_stale}</td><td>gauge</td><td>1 while the addresses in use come from a stale answer</td></tr>
 *   <tr><td>{@code client_channels_errors_total}</td><td>counter</td><td>errors by {@code kind}: {@code connect}, {@code health}
 *       (failed or timed-out probes), {@code resolution}</td></tr>
 * </table>
 *
 * <p>Pools that join or leave the channel registry appear and disappear at the next scrape. Thread-
 * safe; {@link #close} removes the metrics from the Prometheus registry.
 */
public final class ChannelMetrics implements AutoCloseable {
    private final PrometheusRegistry registry;
    private final List<Collector> collectors = new ArrayList<>();

    private ChannelMetrics(PrometheusRegistry registry) {
        this.registry = registry;
    }

    /**
     * Registers the metrics of {@code channels}' pools on {@code registry}.
     *
     * @throws IllegalArgumentException if {@code registry} already has metrics of these names
     */
    public static ChannelMetrics register(ChannelRegistry channels, PrometheusRegistry registry) {
        Checks.notNull(channels, "channels");
        Checks.notNull(registry, "registry");
        ChannelMetrics metrics = new ChannelMetrics(registry);
        try {
            metrics.gauge(channels, "client_channels_target", "Members the channel aims to keep.", PoolCounts::target);
            metrics.gauge(
                    channels,
                    "client_channels_current",
                    "Members the channel has, connecting ones included.",
                    PoolCounts::members);
            metrics.gauge(channels, "client_channels_healthy", "Healthy members of the channel.", PoolCounts::healthy);
            metrics.gauge(
                    channels,
                    "client_channels_opened",
                    "Members the channel has opened since it started (only grows).",
                    counts -> (double) counts.opened());
            metrics.gauge(channels, "client_channels_serving", "Members taking requests.", PoolCounts::serving);
            metrics.gauge(
                    channels,
                    "client_channels_degraded",
                    "1 while the channel is in degraded mode (unhealthy members serve).",
                    counts -> counts.state() == PoolState.DEGRADED ? 1 : 0);
            metrics.gauge(
                    channels,
                    "client_channels_up",
                    "1 while the channel is healthy (at least healthyMin healthy members).",
                    counts -> counts.state().healthy() ? 1 : 0);
            metrics.gauge(
                    channels,
                    "client_channels_resolution_stale",
                    "1 while the channel's addresses come from a stale answer (later resolutions failed).",
                    counts -> counts.stale() ? 1 : 0);
            metrics.add(CounterWithCallback.builder()
                    .name("client_channels_errors")
                    .help("Errors of the channel by kind: connect, health (failed or timed-out probes), resolution.")
                    .labelNames("channel", "kind")
                    .callback(callback -> {
                        for (WarmPool<?, ?, ?> pool : channels.pools()) {
                            PoolCounts counts = pool.counts();
                            callback.call((double) counts.connectErrors(), counts.name(), "connect");
                            callback.call((double) counts.healthFailures(), counts.name(), "health");
                            callback.call((double) counts.resolutionFailures(), counts.name(), "resolution");
                        }
                    })
                    .build());
        } catch (RuntimeException e) {
            metrics.close();
            throw e;
        }
        return metrics;
    }

    private void gauge(ChannelRegistry channels, String name, String help, ToDoubleFunction<PoolCounts> value) {
        add(GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .labelNames("channel")
                .callback(callback -> {
                    for (WarmPool<?, ?, ?> pool : channels.pools()) {
                        PoolCounts counts = pool.counts();
                        callback.call(value.applyAsDouble(counts), counts.name());
                    }
                })
                .build());
    }

    private void add(Collector collector) {
        registry.register(collector);
        synchronized (collectors) {
            collectors.add(collector);
        }
    }

    /** Removes these metrics from the Prometheus registry. Idempotent. */
    @Override
    public void close() {
        List<Collector> registered;
        synchronized (collectors) {
            registered = List.copyOf(collectors);
            collectors.clear();
        }
        for (Collector collector : registered) {
            registry.unregister(collector);
        }
    }
}
