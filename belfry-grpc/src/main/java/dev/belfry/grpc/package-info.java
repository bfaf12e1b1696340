/**
 * Warm gRPC client channels: {@link dev.belfry.grpc.WarmGrpcChannel}, an {@link io.grpc.Channel}
 * over a {@link dev.belfry.channel.WarmPool} of grpc-java {@code ManagedChannel}s, one per member.
 *
 * <pre>
 *  stub --> WarmGrpcChannel.newCall --> WarmCall (queues until a member takes it)
 *                                          |  pool.route(attempt, tried members)
 *                                          v
 *            WarmPool: p2c + PeakEWMA over READY, SERVING members (grpc.health.v1 Watch / Check)
 *                                          |
 *                                          v
 *            member ManagedChannel (one address) --> server
 *            closed UNAVAILABLE, never sent? --> retry on another member (budget, maxRetries)
 * </pre>
 *
 * <p>What the channel adds to a call: balancing per call over warm members, a bounded wait when no
 * member is ready, retries of attempts that never reached a server, and per-call metrics. What it
 * leaves alone: everything the call itself carries (deadline, metadata, compression, cancellation,
 * messages), which reaches the member's grpc-java call as the caller made it. Client interceptors
 * wrap the channel as any other ({@link io.grpc.ClientInterceptors#intercept}). The server side
 * (limits, health service, metrics) is in {@link dev.belfry.grpc.server}.
 */
@NullMarked
package dev.belfry.grpc;

import org.jspecify.annotations.NullMarked;
