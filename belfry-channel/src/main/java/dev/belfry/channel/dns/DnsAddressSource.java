package dev.belfry.channel.dns;

import dev.belfry.Checks;
import dev.belfry.backoff.Backoff;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.Resolution;
import dev.belfry.netty.dns.DnsDiscover;
import dev.belfry.netty.dns.DnsResolutionException;
import dev.belfry.time.Clock;
import io.netty.resolver.ResolvedAddressTypes;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An {@link AddressSource} that resolves a host name's A and AAAA records through {@code
 * belfry-netty}'s DNS discovery and looks it up again when the answer's TTL runs out, never sooner
 * than a floor ({@code minTtl}, 10 s as in warm_channels) and never later than {@code maxTtl} (5 min).
 *
 * <pre>{@code
 * AddressSource<InetSocketAddress> users = DnsAddressSource.of("users.internal", 8080);   // or an IP literal
 * WarmPool<InetSocketAddress, Req, Res> pool = WarmPool.builder("users", users, connector).build();
 * }</pre>
 *
 * <p>Every lookup's outcome is reported: an answer as {@link Resolution#addresses} (every address,
 * the host name kept in each {@link InetSocketAddress} for TLS and diagnostics), a failure (NXDOMAIN,
 * no records, SERVFAIL, a timeout) as {@link Resolution#failed} with a {@link
 * DnsResolutionException} naming the host and the DNS error. A {@link dev.belfry.channel.WarmPool}
 * keeps the last good answer through failures and empty answers and marks it stale until the next
 * good one. After a failure the next lookup follows the backoff (1 s doubling to 30 s, jittered).
 *
 * <p>Each {@link #subscribe} runs its own discovery (its own resolver and, unless an event loop is
 * given, its own one-thread event loop), stopped by the returned handle. Netty's caches are off, so
 * the TTLs seen are the server's. Thread-safe; listeners are called on the resolver's event loop.
 */
public final class DnsAddressSource implements AddressSource<InetSocketAddress> {
    /** The default floor of the re-resolution interval, as in warm_channels. */
    public static final Duration DEFAULT_MIN_TTL = Duration.ofSeconds(10);

    /** The default ceiling of the re-resolution interval. */
    public static final Duration DEFAULT_MAX_TTL = Duration.ofMinutes(5);

    // The discovery's hold decides when an NXDOMAIN answer drops every endpoint; the pool keeps the
    // last good answer whatever happens, so the discovery must never drop it (nor log that it did).
    private static final Duration NEVER = Duration.ofDays(365L * 100);

    private final Builder settings;

    private DnsAddressSource(Builder settings) {
        this.settings = settings;
    }

    /**
     * A source for {@code host}: a static one if it is an IP literal ({@code "10.0.0.7"}, {@code
     * "::1"}, {@code "[::1]"}), else a DNS source with the defaults (TTL floor 10 s, the system's name
     * servers).
     */
    public static AddressSource<InetSocketAddress> of(String host, int port) {
        Checks.notNull(host, "host");
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (AddressSource.isIpLiteral(bare)) {
            return AddressSource.ipLiteral(host, port);
        }
        return builder(host, port).build();
    }

    /**
     * A builder of a DNS source for {@code host}'s addresses, each with {@code port}.
     *
     * @throws IllegalArgumentException if {@code host} is empty or an IP literal (use {@link #of}),
     *     or {@code port} is outside 1..65535
     */
    public static Builder builder(String host, int port) {
        Checks.notNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be empty");
        }
        if (AddressSource.isIpLiteral(host)) {
            throw new IllegalArgumentException("'" + host + "' is an IP literal, which needs no DNS;"
                    + " use DnsAddressSource.of or AddressSource.ipLiteral");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
        }
        return new Builder(host.strip(), port);
    }

    /** The host name this source resolves. */
    public String host() {
        return settings.host;
    }

    /** The port each resolved address gets. */
    public int port() {
        return settings.port;
    }

    @Override
    public AutoCloseable subscribe(Consumer<? super Resolution<InetSocketAddress>> listener) {
        Checks.notNull(listener, "listener");
        AtomicReference<@Nullable DnsDiscover> running = new AtomicReference<>();
        // The discovery schedules its next lookup exactly once per lookup, after it has recorded the
        // outcome and published the answer: that moment is when its state is the lookup's outcome.
        Clock observed = new OutcomeClock(settings.clock, () -> {
            DnsDiscover discover = running.get();
            if (discover != null) {
                report(discover, listener);
            }
        });
        DnsDiscover.Builder dns = DnsDiscover.builder(settings.host, settings.port)
                .clock(observed)
                .minTtl(settings.minTtl)
                .maxTtl(settings.maxTtl)
                .hold(NEVER);
        if (settings.backoff != null) {
            dns.backoff(settings.backoff);
        }
        if (settings.queryTimeout != null) {
            dns.queryTimeout(settings.queryTimeout);
        }
        if (settings.addressTypes != null) {
            dns.addressTypes(settings.addressTypes);
        }
        if (settings.nameServers != null) {
            dns.nameServers(settings.nameServers);
        }
        DnsDiscover discover = dns.build();
        running.set(discover);
        // Its outcome reaches the listener through the clock above; a failed start is only the first failure.
        discover.start();
        return discover;
    }

    private void report(DnsDiscover discover, Consumer<? super Resolution<InetSocketAddress>> listener) {
        DnsDiscover.State state = discover.state();
        if (state.status() == DnsDiscover.Status.OK) {
            listener.accept(
                    Resolution.addresses(List.copyOf(discover.endpoints().keySet())));
        } else if (state.status() != DnsDiscover.Status.CLOSED) {
            DnsResolutionException error = state.lastError();
            listener.accept(Resolution.failed(
                    error != null
                            ? error
                            : new DnsResolutionException(settings.host, DnsResolutionException.Kind.OTHER, null)));
        }
    }

    @Override
    public String toString() {
        return "dns:" + settings.host + ":" + settings.port;
    }

    /** A clock that tells {@code onSchedule} each time a task is scheduled on it, after scheduling it. */
    private record OutcomeClock(Clock inner, Runnable onSchedule) implements Clock {
        @Override
        public long nanoTime() {
            return inner.nanoTime();
        }

        @Override
        public Scheduled schedule(Duration delay, Runnable task) {
            // The next lookup is scheduled before the outcome is told: whoever hears it (a test on a
            // manual clock, say) may move time at once and must find the lookup due.
            Scheduled next = inner.schedule(delay, task);
            onSchedule.run();
            return next;
        }
    }

    /** Settings of a {@link DnsAddressSource}; each may be set once. */
    public static final class Builder {
        private final String host;
        private final int port;
        private Clock clock = Clock.system();
        private Duration minTtl = DEFAULT_MIN_TTL;
        private Duration maxTtl = DEFAULT_MAX_TTL;
        private @Nullable Backoff backoff;
        private @Nullable Duration queryTimeout;
        private @Nullable ResolvedAddressTypes addressTypes;
        private @Nullable List<InetSocketAddress> nameServers;
        private final java.util.Set<String> set = new java.util.HashSet<>();

        private Builder(String host, int port) {
            this.host = host;
            this.port = port;
        }

        private void once(String setting) {
            if (!set.add(setting)) {
                throw new IllegalStateException(setting + " was already set");
            }
        }

        /** The clock of the re-resolution timers (the system clock). */
        public Builder clock(Clock clock) {
            once("clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /**
         * The floor and ceiling of the time between lookups: an answer's TTL below {@code min} (10 s)
         * waits {@code min}, above {@code max} (5 min) waits {@code max}.
         */
        public Builder ttlBounds(Duration min, Duration max) {
            once("ttlBounds");
            Checks.positive(min, "min");
            Checks.positive(max, "max");
            if (min.compareTo(max) > 0) {
                throw new IllegalArgumentException("min TTL (" + min + ") must not exceed max TTL (" + max + ")");
            }
            this.minTtl = min;
            this.maxTtl = max;
            return this;
        }

        /** The wait before the next lookup after failures (exponential, 1 s to 30 s, jittered). */
        public Builder backoff(Backoff backoff) {
            once("backoff");
            this.backoff = Checks.notNull(backoff, "backoff");
            return this;
        }

        /** How long one DNS query may take before it counts as timed out (5 s). */
        public Builder queryTimeout(Duration timeout) {
            once("queryTimeout");
            this.queryTimeout = Checks.positive(timeout, "timeout");
            return this;
        }

        /** Which address records to ask for (as Netty decides from the machine's IPv6 support: A, and AAAA too where IPv6 works). */
        public Builder addressTypes(ResolvedAddressTypes types) {
            once("addressTypes");
            this.addressTypes = Checks.notNull(types, "types");
            return this;
        }

        /** The DNS servers to ask, in order (the system's, from {@code /etc/resolv.conf}). */
        public Builder nameServers(List<InetSocketAddress> servers) {
            once("nameServers");
            Checks.notNull(servers, "servers");
            if (servers.isEmpty()) {
                throw new IllegalArgumentException("nameServers must not be empty");
            }
            this.nameServers = List.copyOf(servers);
            return this;
        }

        /** The source; nothing is resolved until a pool subscribes. */
        public DnsAddressSource build() {
            return new DnsAddressSource(this);
        }
    }
}
