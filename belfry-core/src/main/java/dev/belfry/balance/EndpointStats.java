package dev.belfry.balance;

import dev.belfry.Readiness;

/**
 * A snapshot of one endpoint in a balancer, for diagnostics.
 *
 * @param key the endpoint's stable id
 * @param weight its weight
 * @param inflight requests admitted by it and not yet completed
 * @param load the load the strategy compares (in-flight count if the strategy measures none)
 * @param readiness whether it would admit a request now
 */
public record EndpointStats(Object key, int weight, int inflight, double load, Readiness readiness) {}
