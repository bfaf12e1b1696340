/**
 * Prometheus metrics of warm pools: {@link dev.belfry.channel.metrics.ChannelMetrics} exports
 * warm_channels' {@code client_channels_target}, {@code client_channels_current}, {@code
 * client_channels_healthy} and {@code client_channels_opened} by channel name, with the same names,
 * plus what an operator needs beyond them (serving members, degraded mode, a stale resolution,
 * errors by kind), on a registry the application passes. Values are read from each pool at scrape
 * time, so an idle process costs nothing. See {@code docs/channels.md}, "Metrics".
 */
@NullMarked
package dev.belfry.channel.metrics;

import org.jspecify.annotations.NullMarked;
