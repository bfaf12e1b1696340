/**
 * DNS discovery: the endpoints of a DNS name, kept current by following the answers' TTLs, as a
 * {@link dev.belfry.discover.Discover} that balancers subscribe to.
 *
 * <p>{@link dev.belfry.netty.dns.DnsDiscover} resolves a name's A and AAAA records with
 * Netty's {@code netty-resolver-dns} and feeds a {@link dev.belfry.discover.DiscoverSource} keyed by
 * {@link java.net.InetSocketAddress} (the stable endpoint id: address and port) with {@link
 * dev.belfry.netty.dns.DnsEndpoint} values. Each answer replaces the set, so subscribers see only
 * the differences: an address that stays is never removed and re-added. {@code
 * DnsDiscover.srvBuilder(name)} follows SRV records instead, resolving each target and publishing it
 * with the record's port, priority and weight.
 *
 * <pre>
 *   start() ──lookup──► answer ──replaceAll──► subscribers (inserts / removes only)
 *                         │
 *        ok: next lookup after min TTL, clamped to [minTtl, maxTtl]
 *    failed: keep the last good answer, next lookup after backoff(consecutive failures);
 *            after the hold period NXDOMAIN removes every endpoint, other errors mark it STALE
 * </pre>
 *
 * <p><b>Inside.</b> {@code DnsDiscover} wires two package-private parts together: {@code DnsLookup}
 * does one lookup (A/AAAA or SRV queries through Netty's resolver, record parsing, releasing the
 * records, and the rule that a transient failure of any query fails the whole lookup), and {@code
 * DnsRefresh} is the refresh policy: the TTL clamp, the backoff after failures, the hold and the
 * STALE/FAILED decisions, as a state machine on the core's {@link dev.belfry.time.Clock} that its
 * tests drive on a manual clock.
 *
 * <p><b>Errors.</b> Lookups fail as {@link dev.belfry.netty.dns.DnsResolutionException} with a
 * {@link dev.belfry.netty.dns.DnsResolutionException.Kind} (NXDOMAIN, NO_RECORDS, SERVFAIL, TIMEOUT,
 * OTHER). At start-up the failure of the first lookup fails the future {@code start()} returns,
 * naming the host and the DNS error; at run time failures are logged through {@link
 * java.lang.System.Logger} and reported on {@link dev.belfry.netty.dns.DnsDiscover#state()} (status,
 * last error, consecutive failures, time since the last success, current TTL, next lookup), while
 * the last good endpoints stay published. Bad settings (an empty host or an IP address, a port
 * outside 1..65535, {@code minTtl} above {@code maxTtl}, non-positive durations, a setting made
 * twice) fail in the builder with a message naming the setting.
 *
 * <p><b>Where it sits.</b> Discovery is below any balancer: a {@code Balancer} subscribes to it
 * (usually through {@link dev.belfry.discover.Discover#map} to turn addresses into connections) and
 * applies changes on its own scheduler, so an idle client still follows DNS. Health checking
 * decides which discovered endpoints get traffic; discovery only decides which exist.
 *
 * <p><b>Thread-safety.</b> All types are thread-safe. Timers run on the injected {@link
 * dev.belfry.time.Clock}; lookups and subscriber calls run on the resolver's Netty event loop.
 */
@NullMarked
package dev.belfry.netty.dns;

import org.jspecify.annotations.NullMarked;
