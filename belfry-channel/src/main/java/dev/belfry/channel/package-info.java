/**
 * Warm pools: always-ready, load-balanced, actively health-checked pools of member connections over
 * any protocol, the engine under Belfry's gRPC and HTTP client channels.
 *
 * <pre>
 *  AddressSource (static list | IP literal | DNS with TTLs)
 *        |  answers (the last good one kept on errors and empty answers)
 *        v
 *  WarmPool: want members, round robin over addresses, per-address backoff
 *        |  MemberConnector.connect(address) -> PoolMember
 *        v
 *  members: probed with PoolMember.checkHealth (interval, timeout, rise/fall)
 *        |  healthy ones serve; in degraded mode every connected one serves
 *        v
 *  core Balancer (p2c + PeakEWMA) -- call(request) -- one member
 * </pre>
 *
 * <p>A pool is a {@link dev.belfry.Service}, so every core layer (timeouts, retries, limits) wraps
 * it. Build one with {@link dev.belfry.channel.WarmPool#builder}; the protocol enters only through
 * the {@link dev.belfry.channel.MemberConnector} and the {@link dev.belfry.channel.PoolMember} it
 * yields (a gRPC {@code ManagedChannel} to one address, an HTTP/2 connection). See {@code
 * docs/channels.md} for the model, every option and its default beside warm_channels', and the
 * degraded mode.
 *
 * <p>The HTTP channel is {@code dev.belfry.channel.http} ({@code WarmHttpChannel}, a {@code
 * Service<HttpRequest, HttpResponse>}); the gRPC channel is in {@code belfry-grpc}.
 *
 * <p>Around the engine: {@code dev.belfry.channel.dns} (addresses from DNS, following TTLs), {@code
 * dev.belfry.channel.socket} ({@code unix:} targets and domain sockets on each transport), {@code
 * dev.belfry.channel.metrics} (Prometheus metrics) and {@code dev.belfry.channel.diag} (the {@code
 * /debug/channels} page), the last two reading the pools of a {@link
 * dev.belfry.channel.ChannelRegistry}.
 */
@NullMarked
package dev.belfry.channel;

import org.jspecify.annotations.NullMarked;
