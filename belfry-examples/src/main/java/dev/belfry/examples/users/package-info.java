/**
 * The reference service: a users API over HTTP (HTTP/1.1 and h2c) on PostgreSQL through HikariCP,
 * built from Belfry's pieces as an outside project would use them.
 *
 * <ul>
 *   <li>{@link dev.belfry.examples.users.UserStore}: the table over JDBC (blocking);
 *   <li>{@link dev.belfry.examples.users.UsersApi}: the routes, with every database call through a
 *       circuit breaker, a budgeted retry of transient read failures and a timeout, on virtual
 *       threads; {@code GET} by id coalesced and cached, invalidated on writes;
 *   <li>{@link dev.belfry.examples.users.UsersService}: the API, the health endpoints over a
 *       registry that pings the database, and belfry-http's layers (request id, access log,
 *       metrics on {@code /metrics}, catch-panic, request timeout, a rate limit per client,
 *       compression, a body limit, bearer-token auth for writes) on one HTTP server;
 *       and a gRPC server for {@code UserService} ({@code users.proto}: {@code GetUser}, {@code
 *       ListUsers} streamed with flow control) with belfry-grpc's limits, metrics and a health
 *       service that follows the same registry;
 *   <li>{@link dev.belfry.examples.users.Main}: runs it on an embedded PostgreSQL, or on the one
 *       {@code BELFRY_DATABASE_URL} names.
 * </ul>
 */
@NullMarked
package dev.belfry.examples.users;

import org.jspecify.annotations.NullMarked;
