/**
 * Path normalization: {@link dev.belfry.http.normalizepath.NormalizePathLayer} rewrites the request
 * target before routing, merging repeated slashes ({@code //api///users} is {@code /api/users})
 * and removing a trailing slash ({@code /users/} is {@code /users}; {@code /} stays). The query is
 * kept as it is.
 *
 * <p>Layer order: it must run before the router matches, so wrap the router in it (with {@code
 * ServiceBuilder} or {@code layer.wrap(router)}); as a router's own {@code .layer(...)} it would run
 * after matching and change nothing. The path is rewritten as received, without percent-decoding.
 * It creates no exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.normalizepath;

import org.jspecify.annotations.NullMarked;
