/**
 * The server side of Belfry's gRPC: what a grpc-java server adds so that the clients' warm
 * channels can do their job.
 *
 * <ul>
 *   <li>{@link dev.belfry.grpc.server.ServerLimits}: a concurrency limit that sheds with {@code
 *       RESOURCE_EXHAUSTED}, a rate limit, and the call's deadline honoured.
 *   <li>{@link dev.belfry.grpc.server.HealthService}: {@code grpc.health.v1.Health}, set with
 *       {@code setStatus(service, serving)}.
 *   <li>{@link dev.belfry.grpc.server.ServerMetrics}: {@code grpc_server_started_total}, {@code
 *       grpc_server_handled_total{grpc_code}}, {@code grpc_server_handling_seconds}.
 * </ul>
 *
 * <pre>{@code
 * ServerServiceDefinition guarded = ServerInterceptors.intercept(users, limits, ServerMetrics.on(registry));
 * // metrics (last) sees every call first, shed ones included; limits then decide
 * }</pre>
 */
@NullMarked
package dev.belfry.grpc.server;

import org.jspecify.annotations.NullMarked;
