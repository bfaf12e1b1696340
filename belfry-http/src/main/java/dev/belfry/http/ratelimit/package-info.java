/**
 * A rate limit per client: {@link dev.belfry.http.ratelimit.ClientRateLimitLayer} gives every
 * client its own token bucket, so one busy client is refused with {@code 429 Too Many Requests}
 * (and {@code Retry-After}) while the others go on. The core's {@code RateLimit} is one bucket for
 * everyone and makes callers wait; this one keys buckets by a function of the request and refuses at
 * once.
 *
 * <pre>{@code
 * Router app = Router.builder()
 *         .layer(ClientRateLimitLayer.builder(50, Duration.ofSeconds(1))
 *                 .key(request -> request.header("x-api-key"))   // null: not limited
 *                 .build())
 *         .get("/users/{id}", getUser)
 *         .build();
 * }</pre>
 *
 * <p>The key is yours to choose: an API key, the principal {@code AuthLayer} set (put the limit
 * inside auth), or a client address a trusted proxy forwarded. Memory is bounded: past {@code
 * maxClients} keys the least recently seen bucket is forgotten. Layer order: inside the access log
 * and metrics (so refusals are logged and counted), outside anything expensive. It creates no
 * exceptions; inner failures pass through unchanged.
 */
@NullMarked
package dev.belfry.http.ratelimit;

import org.jspecify.annotations.NullMarked;
