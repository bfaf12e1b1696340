/**
 * DNS for warm pools: {@link dev.belfry.channel.dns.DnsAddressSource} resolves a host name's A and
 * AAAA records through {@code belfry-netty}'s DNS discovery and follows the answers' TTLs, with a
 * floor of 10 s (warm_channels' default, configurable).
 *
 * <pre>
 *  DnsAddressSource --lookup--> DNS server
 *        |   answer: every address ----------------------> WarmPool: new addresses get members,
 *        |   (next lookup after the TTL, in [10 s, 5 min])          gone ones are drained
 *        |   failure / empty: DnsResolutionException ----> WarmPool: keeps the last good answer,
 *        |   (next lookup after a backoff, 1 s .. 30 s)             marks it stale
 * </pre>
 *
 * <p>An IP literal needs no DNS: {@link dev.belfry.channel.dns.DnsAddressSource#of} gives a static
 * source for one. See {@code docs/channels.md}, "DNS resolution".
 */
@NullMarked
package dev.belfry.channel.dns;

import org.jspecify.annotations.NullMarked;
