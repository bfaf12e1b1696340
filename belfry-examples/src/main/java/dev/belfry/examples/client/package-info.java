/**
 * The users service's client: {@link dev.belfry.examples.client.ReplicasDemo} starts two replicas
 * on one PostgreSQL and calls them through one warm gRPC channel ({@code WarmGrpcChannel}, health
 * by {@code grpc.health.v1}) and a plain belfry-http client per replica, printing what it sees
 * while a replica stops and comes back. The warm HTTP channel takes the plain clients' place when
 * it exists (a marked spot in the code).
 */
@NullMarked
package dev.belfry.examples.client;

import org.jspecify.annotations.NullMarked;
