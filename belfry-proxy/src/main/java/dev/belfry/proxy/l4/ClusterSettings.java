package dev.belfry.proxy.l4;

import dev.belfry.netty.transport.Transport;
import dev.belfry.time.Clock;

/** What every backend connector of the engine shares: transport, clock, connect timeout, the connect listener. */
record ClusterSettings(Transport transport, Clock clock, int connectTimeoutMillis, BackendListener connectListener) {}
