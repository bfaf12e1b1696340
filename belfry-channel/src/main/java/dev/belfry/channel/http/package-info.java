/**
 * The warm HTTP channel: {@link dev.belfry.channel.http.WarmHttpChannel}, a {@code
 * Service<HttpRequest, HttpResponse>} over a {@link dev.belfry.channel.WarmPool} whose members are
 * belfry-http clients, one per member, each to one resolved address.
 *
 * <pre>
 *  AddressSource (static | DNS with TTLs)
 *        |
 *  WarmPool: want members (3), backoff, rise/fall, degraded mode, fail-fast
 *        |  connect = an HttpClient to one address + its first health request
 *        v
 *  members: h2c (one multiplexed connection, the default) | HTTP/1.1 (a keep-alive pool)
 *        |  probed with GET /ready, expecting 200, every 9 s (7.5 s timeout)
 *        v
 *  call --> p2c + PeakEWMA --> member --> response head (body streams after)
 *        \--> never sent, or idempotent and cut off before the head: once more on another member
 * </pre>
 *
 * <p>A channel built with the pool's {@code registry(...)} shows on the {@code /debug/channels}
 * page and in {@code client_channels_*} metrics like every pool. See {@code docs/channels.md}
 * ("HTTP") for every option and its default.
 */
@NullMarked
package dev.belfry.channel.http;

import org.jspecify.annotations.NullMarked;
