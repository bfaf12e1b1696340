/**
 * The reference users service (belfry-examples) next to the same API written with Armeria, for
 * {@code bench/example-compare.sh}.
 *
 * <ul>
 *   <li>{@link dev.belfry.bench.http.users.ArmeriaUsers}: the users API with Armeria's server,
 *       decorators and {@code GrpcService}, over the examples' own {@code UserStore}, {@code User}
 *       and {@code NewUser}, the same HikariCP pool settings and the same generated gRPC stubs.
 *   <li>{@link dev.belfry.bench.http.users.UsersServer}: starts one of the two ({@code belfry} is
 *       the examples' {@code UsersService} as shipped) on a given database, with the stats port
 *       the script reads allocation from.
 *   <li>{@link dev.belfry.bench.http.users.UsersDatabase}: one embedded PostgreSQL for both,
 *       migrated and seeded.
 *   <li>{@link dev.belfry.bench.http.users.GetUserLoad}: a closed loop of gRPC {@code GetUser}
 *       calls at a fixed number in flight, printing requests/s and latency percentiles.
 * </ul>
 */
@NullMarked
package dev.belfry.bench.http.users;

import org.jspecify.annotations.NullMarked;
