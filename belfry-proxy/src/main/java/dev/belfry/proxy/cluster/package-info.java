/**
 * The cluster stack, protocol-neutral: one {@link dev.belfry.proxy.cluster.Cluster} per configured
 * cluster, built from the core's public layers and generic in the request and response types.
 *
 * <pre>
 *   request ─▶ RetryElsewhere (balance)      retries an unprocessed failure on an untried endpoint
 *                └─▶ Balancer (balance)        strategy, slow start, waits ≤ connect timeout
 *                      └─▶ HealthChecked (health)   active checks, passive ejection, panic
 *                            └─▶ ConcurrencyLimit (limit)   permit held as long as the response
 *                                  └─▶ connector (the engine's: a TCP connect, an HTTP exchange)
 *   Discover: static backends (DiscoverSource) or DNS (belfry-netty's DnsDiscover)
 * </pre>
 *
 * <p>An engine adds only its connector, what releases a response, which failures eject or may be
 * retried, and its active check. The L4 engine ({@code dev.belfry.proxy.l4}) uses it with a
 * connector whose response is a backend connection, released when the connection closes; HTTP
 * upstreams and warm channels can use it with their own request and response types.
 */
@NullMarked
package dev.belfry.proxy.cluster;

import org.jspecify.annotations.NullMarked;
