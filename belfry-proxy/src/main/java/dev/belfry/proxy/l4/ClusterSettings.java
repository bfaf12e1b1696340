package dev.belfry.proxy.l4;

import dev.belfry.netty.transport.Transport;
import dev.belfry.retry.RetryListener;
import dev.belfry.time.Clock;
import java.util.function.Function;

/**
 * What every backend connector of the engine shares: transport, clock, connect timeout, the connect
 * listener, and the retry listener of each cluster by name.
 */
record ClusterSettings(
        Transport transport,
        Clock clock,
        int connectTimeoutMillis,
        L4Proxy.ConnectListener connectListener,
        Function<String, RetryListener> retryListeners) {}
