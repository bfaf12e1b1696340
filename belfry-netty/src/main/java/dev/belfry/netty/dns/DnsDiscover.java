package dev.belfry.netty.dns;

import dev.belfry.Checks;
import dev.belfry.backoff.Backoff;
import dev.belfry.discover.Change;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.netty.transport.Transport;
import dev.belfry.time.Clock;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.DatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Discovers the endpoints of a DNS name: resolves its A and AAAA records, re-resolves when the
 * answer's TTL expires, and publishes the addresses (with a fixed port) as a {@link Discover} keyed
 * by {@link InetSocketAddress}, emitting only the differences between answers. {@link #srvBuilder}
 * discovers through SRV records instead: each record's target is resolved and published with the
 * record's port, priority and weight.
 *
 * <pre>{@code
 * DnsDiscover dns = DnsDiscover.builder("api.internal", 8080).build();
 * dns.start().get(10, SECONDS);                  // fails fast if the name does not resolve
 * Balancer<...> balancer = Balancer.builder(dns.map((address, endpoint) -> connect(address)))...;
 * }</pre>
 *
 * <p><b>Timing.</b> The next lookup is due after the smallest TTL in the answer (for SRV, of the
 * SRV records and the targets' addresses), clamped to {@code
 * [minTtl, maxTtl]} (defaults 1 s and 5 min), so a TTL of 0 does not turn into a busy loop and a
 * day-long TTL still gets refreshed. After a failed lookup the next one is due after {@code
 * backoff.delay(consecutiveFailures)} (default exponential, 1 s to 30 s, jittered). Timers run on
 * the injected {@link Clock}; lookups run on a Netty event loop. Netty's own caches are disabled,
 * so every lookup asks the server and the TTLs seen are the server's.
 *
 * <p><b>Failures keep the last good answer.</b> When a lookup fails (timeout, SERVFAIL, NXDOMAIN,
 * an empty answer) the endpoints of the last good answer stay published, and {@link #state()}
 * reports the error, the number of consecutive failures and the time since the last success. For
 * the {@code hold} period (default 5 min, counted from the first failure of a run) the state is
 * {@link Status#HOLDING}. After it:
 *
 * <ul>
 *   <li>an <b>NXDOMAIN</b> answer, the server stating that the name no longer exists, removes every
 *       endpoint (state {@link Status#FAILED}): a deleted name should not be served forever;
 *   <li>any other failure keeps serving the last good answer (state {@link Status#STALE}): a DNS
 *       outage or an overloaded resolver says nothing about the endpoints, and dropping them would
 *       turn a DNS problem into an outage of every caller. Health checks still route around
 *       endpoints that really went away.
 * </ul>
 *
 * The hold is checked at each failed lookup, so the drop happens at the first failure at or after
 * the hold expires. A lookup with both A and AAAA queried succeeds when no query failed
 * transiently (timeout, SERVFAIL, I/O) and at least one returned addresses; if a transient failure
 * hits either query the whole lookup counts as failed, so half an answer never replaces a whole one
 * (where servers drop AAAA queries, choose {@link ResolvedAddressTypes#IPV4_ONLY}).
 *
 * <p><b>Start.</b> Nothing is resolved until {@link #start()}, which returns a future completing
 * with the state after the first lookup, or failing with a {@link DnsResolutionException} naming the
 * host and the DNS error, so a misspelt name fails the application at start-up. Discovery keeps
 * retrying in the background (with backoff) either way, until {@link #close()}.
 *
 * <p><b>Logging.</b> Through {@link System.Logger} {@code dev.belfry.netty.dns.DnsDiscover}: the
 * first failure of a run and the drop or stale transition at WARNING, recovery at INFO, each
 * repeated failure and each answer that changed the set at DEBUG.
 *
 * <p><b>Parts.</b> This class owns the resolver and its event loop, publishes answers and reports
 * state. One lookup (the queries, record parsing, reducing several answers to one) is {@code
 * DnsLookup}'s; when to look up again and what a failure does to the published endpoints is {@code
 * DnsRefresh}'s, a state machine on the {@link Clock} with no DNS in it.
 *
 * <p>Thread-safe. Subscribers are called as {@link DiscoverSource} describes, on the event-loop
 * thread that received the answer; they must not block.
 */
public final class DnsDiscover implements Discover<InetSocketAddress, DnsEndpoint>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DnsDiscover.class.getName());

    private final String host;
    private final int port;
    private final Duration hold;
    private final DnsLookup lookup;
    private final DnsRefresh refresh;
    private final @Nullable EventLoopGroup ownedGroup;
    // The resolver's datagram channels, recorded as created so close() can wait for them.
    private final List<Channel> channels;
    private final DiscoverSource<InetSocketAddress, DnsEndpoint> source = DiscoverSource.create();
    private final CompletableFuture<State> started = new CompletableFuture<>();

    // Guarded by this. Only one lookup is in flight at a time: the next is scheduled when one ends.
    private boolean startRequested;
    private @Nullable CompletableFuture<State> nextLookup;

    private DnsDiscover(
            Builder builder, DnsNameResolver resolver, @Nullable EventLoopGroup ownedGroup, List<Channel> channels) {
        this.host = builder.host;
        this.port = builder.port;
        this.hold = builder.hold != null ? builder.hold : Builder.DEFAULT_HOLD;
        this.lookup = new DnsLookup(builder.host, builder.port, builder.srv, resolver);
        this.refresh = new DnsRefresh(
                builder.clock != null ? builder.clock : Clock.system(),
                builder.minTtl != null ? builder.minTtl : Builder.DEFAULT_MIN_TTL,
                builder.maxTtl != null ? builder.maxTtl : Builder.DEFAULT_MAX_TTL,
                hold,
                builder.backoff != null
                        ? builder.backoff
                        : Backoff.exponential(
                                Duration.ofSeconds(1), Duration.ofSeconds(30), ThreadLocalRandom.current()),
                this::lookup);
        this.ownedGroup = ownedGroup;
        this.channels = channels;
    }

    /**
     * A builder for discovering {@code host}'s addresses, each published with {@code port}.
     *
     * @throws IllegalArgumentException if {@code host} is empty or an IP address, or {@code port} is
     *     outside 1..65535
     */
    public static Builder builder(String host, int port) {
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
        }
        return new Builder(host, port, false);
    }

    /**
     * A builder for discovering a service through its SRV records ({@code _http._tcp.example.com}):
     * each record's target is resolved to its addresses (A/AAAA as configured), published with the
     * record's port, priority and weight (a weight of 0 counts as 1). Targets that do not resolve
     * are left out; a transient failure on any query fails the whole lookup.
     *
     * @throws IllegalArgumentException if {@code name} is empty or an IP address
     */
    public static Builder srvBuilder(String name) {
        return new Builder(name, 0, true);
    }

    /**
     * Starts resolving: the first lookup begins now. Returns a future that completes with the state
     * after the first lookup if it found addresses, or fails with a {@link DnsResolutionException}
     * naming the host and the error. Idempotent: later calls return a future for the same outcome.
     *
     * <p>Discovery keeps retrying after a failed start; close it to stop. Cancelling the returned
     * future does not stop discovery. After {@link #close()} the future is cancelled.
     */
    public CompletableFuture<State> start() {
        boolean first;
        synchronized (this) {
            first = !startRequested && !refresh.isClosed();
            startRequested = true;
        }
        if (first) {
            lookup();
        }
        // A future of the caller's own, so cancelling or completing it cannot change what others see;
        // unlike copy(), it fails with the same exception (a CancellationException stays one).
        CompletableFuture<State> mine = new CompletableFuture<>();
        started.whenComplete((state, failure) -> {
            if (failure != null) {
                mine.completeExceptionally(failure);
            } else {
                mine.complete(state);
            }
        });
        return mine;
    }

    /** A snapshot of this discovery's state, for diagnostics. */
    public State state() {
        DnsRefresh.Snapshot now = refresh.snapshot();
        return new State(
                host,
                port,
                now.status(),
                source.size(),
                now.ttl(),
                now.sinceLastSuccess(),
                now.consecutiveFailures(),
                now.lastError(),
                now.nextLookupIn(),
                now.lookups());
    }

    /** The endpoints published now, keyed by address, in the order they were first seen. */
    public Map<InetSocketAddress, DnsEndpoint> endpoints() {
        return source.snapshot();
    }

    @Override
    public Subscription subscribe(Consumer<? super Change<InetSocketAddress, DnsEndpoint>> listener) {
        return source.subscribe(listener);
    }

    /**
     * Stops discovery: cancels the pending timer, closes the resolver (a lookup in flight is
     * abandoned and its records released) and, if this discovery created its own event loop, shuts
     * it down. The endpoints stay as they were and subscribers receive no further changes.
     * Idempotent.
     */
    @Override
    public void close() {
        if (!refresh.close()) {
            return;
        }
        CompletableFuture<State> waiting;
        synchronized (this) {
            waiting = nextLookup;
            nextLookup = null;
        }
        lookup.close();
        if (ownedGroup != null) {
            shutDownAfterChannelsClose(ownedGroup);
        }
        started.cancel(false);
        if (waiting != null) {
            waiting.complete(state());
        }
    }

    // Channel close is asynchronous (io_uring completes it through the ring): shutting the loop down
    // first would reject the close's last steps, so the loop goes only once every channel is closed.
    private void shutDownAfterChannelsClose(EventLoopGroup group) {
        List<Channel> open = List.copyOf(channels);
        AtomicInteger remaining = new AtomicInteger(open.size() + 1);
        Runnable oneClosed = () -> {
            if (remaining.decrementAndGet() == 0) {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            }
        };
        for (Channel channel : open) {
            channel.closeFuture().addListener(closed -> oneClosed.run());
        }
        oneClosed.run();
    }

    /** Completes with the state after the next lookup ends, successful or not; for tests. */
    synchronized CompletableFuture<State> nextLookup() {
        if (refresh.isClosed()) {
            return CompletableFuture.completedFuture(state());
        }
        if (nextLookup == null) {
            nextLookup = new CompletableFuture<>();
        }
        return nextLookup;
    }

    /** The event-loop group this discovery created and owns, if any; for tests. */
    @Nullable
    EventLoopGroup ownedGroup() {
        return ownedGroup;
    }

    private void lookup() {
        if (!refresh.beginLookup()) {
            return;
        }
        lookup.lookup().thenAccept(done -> {
            DnsResolutionException error = done.error();
            if (error != null) {
                failed(error);
            } else {
                succeeded(done.endpoints(), done.minTtlSeconds());
            }
        });
    }

    private void succeeded(Map<InetSocketAddress, DnsEndpoint> endpoints, long minTtlSeconds) {
        DnsRefresh.Outcome outcome = refresh.succeeded(minTtlSeconds);
        if (outcome == null) {
            return; // closed
        }
        // Outside any lock: subscribers run here and may read state().
        int changes = source.replaceAll(endpoints);
        if (outcome.recovered()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "DNS for " + host + " recovered: " + endpoints.size() + " endpoints");
        } else if (changes > 0) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> "DNS for " + host + ": " + changes + " changes, " + endpoints.size()
                            + " endpoints, next lookup in " + outcome.delay());
        }
        scheduleAndReport(outcome.delay(), null);
    }

    private void failed(DnsResolutionException error) {
        DnsRefresh.Outcome outcome = refresh.failed(error, source.size());
        if (outcome == null) {
            return; // closed
        }
        Duration delay = outcome.delay();
        if (outcome.drop()) {
            int removed = source.replaceAll(Map.of());
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> error.getMessage() + " for longer than the hold of " + hold + "; removed all " + removed
                            + " endpoints");
        } else if (outcome.failures() == 1) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> error.getMessage() + "; keeping " + source.size() + " endpoints, retrying in " + delay);
        } else if (outcome.after() == Status.STALE && outcome.before() != Status.STALE) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> error.getMessage() + " for longer than the hold of " + hold
                            + "; still serving the last good answer (" + source.size() + " endpoints)");
        } else {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> error.getMessage() + " (" + outcome.failures() + " failures in a row)");
        }
        scheduleAndReport(delay, error);
    }

    private void scheduleAndReport(Duration delay, @Nullable DnsResolutionException error) {
        if (!refresh.scheduleNext(delay)) {
            return; // closed
        }
        CompletableFuture<State> waiting;
        synchronized (this) {
            waiting = nextLookup;
            nextLookup = null;
        }
        State state = state();
        if (error == null) {
            started.complete(state);
        } else {
            started.completeExceptionally(error);
        }
        if (waiting != null) {
            waiting.complete(state);
        }
    }

    @Override
    public String toString() {
        return "DnsDiscover[" + host + ":" + port + ", " + state().status() + "]";
    }

    /** Where a discovery stands, as reported by {@link State#status()}. */
    public enum Status {
        /** Started or not, no lookup has finished yet. */
        STARTING,
        /** The last lookup succeeded; the published endpoints are its answer. */
        OK,
        /** Recent lookups failed; the last good answer is still published, within the hold period. */
        HOLDING,
        /**
         * Lookups have failed (not with NXDOMAIN) for longer than the hold period; the last good
         * answer is still published.
         */
        STALE,
        /**
         * No endpoints are published: no lookup has succeeded yet, or the name has not existed
         * (NXDOMAIN) for longer than the hold period.
         */
        FAILED,
        /** {@link #close()} was called. */
        CLOSED
    }

    /**
     * A snapshot of a discovery's state, for diagnostics pages and tests.
     *
     * @param host the name being resolved
     * @param port the port published with each address; 0 for SRV discovery, where each record
     *     names its own
     * @param status where the discovery stands
     * @param endpoints how many endpoints are published
     * @param ttl the clamped TTL of the last good answer, or null before the first
     * @param sinceLastSuccess the time since the last successful lookup, or null if none succeeded
     * @param consecutiveFailures failed lookups since the last success
     * @param lastError the most recent failure, kept after recovery; null if none
     * @param nextLookupIn the time until the next lookup, or null while one is in flight or after
     *     close
     * @param lookups lookups finished so far, successful or not
     */
    public record State(
            String host,
            int port,
            Status status,
            int endpoints,
            @Nullable Duration ttl,
            @Nullable Duration sinceLastSuccess,
            int consecutiveFailures,
            @Nullable DnsResolutionException lastError,
            @Nullable Duration nextLookupIn,
            long lookups) {}

    /**
     * Configures a {@link DnsDiscover}; every setting is optional, may be set only once, and is
     * validated when set.
     */
    public static final class Builder {
        static final Duration DEFAULT_MIN_TTL = Duration.ofSeconds(1);
        static final Duration DEFAULT_MAX_TTL = Duration.ofMinutes(5);
        static final Duration DEFAULT_HOLD = Duration.ofMinutes(5);
        static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(5);

        private final String host;
        private final int port;
        private final boolean srv;
        private @Nullable Clock clock;
        private @Nullable Duration minTtl;
        private @Nullable Duration maxTtl;
        private @Nullable Duration hold;
        private @Nullable Backoff backoff;
        private @Nullable Duration queryTimeout;
        private @Nullable ResolvedAddressTypes addressTypes;
        private @Nullable List<InetSocketAddress> nameServers;
        private @Nullable Transport transport;
        private @Nullable EventLoop eventLoop;
        private @Nullable Consumer<DnsNameResolverBuilder> resolverConfig;

        private Builder(String host, int port, boolean srv) {
            Checks.notNull(host, "host");
            String name = host.strip();
            if (name.isEmpty()) {
                throw new IllegalArgumentException("host must not be empty, was '" + host + "'");
            }
            if (NetUtil.isValidIpV4Address(name) || NetUtil.isValidIpV6Address(name)) {
                throw new IllegalArgumentException("host must be a DNS name, was the IP address " + name
                        + " (use Discover.of for fixed addresses)");
            }
            this.host = name;
            this.port = port;
            this.srv = srv;
        }

        /** The clock for re-resolution and backoff timers; default {@link Clock#system()}. */
        public Builder clock(Clock clock) {
            Checks.notNull(clock, "clock");
            Checks.notSetTwice(this.clock, "clock");
            this.clock = clock;
            return this;
        }

        /** The shortest time between successful lookups, whatever the TTL says; default 1 s. */
        public Builder minTtl(Duration minTtl) {
            Checks.positive(minTtl, "minTtl");
            Checks.notSetTwice(this.minTtl, "minTtl");
            this.minTtl = minTtl;
            return this;
        }

        /** The longest time between successful lookups, whatever the TTL says; default 5 min. */
        public Builder maxTtl(Duration maxTtl) {
            Checks.positive(maxTtl, "maxTtl");
            Checks.notSetTwice(this.maxTtl, "maxTtl");
            this.maxTtl = maxTtl;
            return this;
        }

        /**
         * How long failed lookups keep the last good answer before NXDOMAIN removes it (other failures
         * keep it but report {@link Status#STALE}); default 5 min, zero to act at the first failure.
         */
        public Builder hold(Duration hold) {
            Checks.nonNegative(hold, "hold");
            Checks.notSetTwice(this.hold, "hold");
            this.hold = hold;
            return this;
        }

        /**
         * The wait before the next lookup after failures, given how many failed in a row; default
         * exponential with jitter from 1 s to 30 s.
         */
        public Builder backoff(Backoff backoff) {
            Checks.notNull(backoff, "backoff");
            Checks.notSetTwice(this.backoff, "backoff");
            this.backoff = backoff;
            return this;
        }

        /** How long one DNS query may take before it counts as timed out; default 5 s. */
        public Builder queryTimeout(Duration queryTimeout) {
            Checks.positive(queryTimeout, "queryTimeout");
            Checks.notSetTwice(this.queryTimeout, "queryTimeout");
            this.queryTimeout = queryTimeout;
            return this;
        }

        /**
         * Which address records to ask for: A, AAAA, or both (the preferred family's endpoints first);
         * default as Netty decides from the machine's IPv6 support.
         */
        public Builder addressTypes(ResolvedAddressTypes addressTypes) {
            Checks.notNull(addressTypes, "addressTypes");
            Checks.notSetTwice(this.addressTypes, "addressTypes");
            this.addressTypes = addressTypes;
            return this;
        }

        /** The DNS servers to ask, in order; default the system's (from {@code /etc/resolv.conf}). */
        public Builder nameServers(List<InetSocketAddress> nameServers) {
            Checks.notNull(nameServers, "nameServers");
            Checks.notSetTwice(this.nameServers, "nameServers");
            if (nameServers.isEmpty()) {
                throw new IllegalArgumentException("nameServers must not be empty");
            }
            for (InetSocketAddress server : nameServers) {
                Checks.notNull(server, "name server");
                if (server.isUnresolved()) {
                    throw new IllegalArgumentException("nameServers must be resolved addresses, was " + server);
                }
            }
            this.nameServers = List.copyOf(nameServers);
            return this;
        }

        /**
         * The transport of the resolver's channels; default {@link Transport#select()}. Must match
         * the {@link #eventLoop} if one is given.
         */
        public Builder transport(Transport transport) {
            Checks.notNull(transport, "transport");
            Checks.notSetTwice(this.transport, "transport");
            this.transport = transport;
            return this;
        }

        /**
         * The event loop the resolver runs on, owned by the caller; default a private one-thread loop
         * that {@link DnsDiscover#close()} shuts down.
         */
        public Builder eventLoop(EventLoop eventLoop) {
            Checks.notNull(eventLoop, "eventLoop");
            Checks.notSetTwice(this.eventLoop, "eventLoop");
            this.eventLoop = eventLoop;
            return this;
        }

        /**
         * Adjusts Netty's resolver builder after Belfry's settings (search domains, ndots, hosts file,
         * more name servers). Re-enabling Netty's caches would hide TTL changes from discovery.
         */
        public Builder configureResolver(Consumer<DnsNameResolverBuilder> resolverConfig) {
            Checks.notNull(resolverConfig, "resolverConfig");
            Checks.notSetTwice(this.resolverConfig, "resolverConfig");
            this.resolverConfig = resolverConfig;
            return this;
        }

        /**
         * Builds the discovery, creating its resolver (and event loop, unless one was given); nothing
         * is resolved until {@link DnsDiscover#start()}.
         *
         * @throws IllegalArgumentException if {@code minTtl} exceeds {@code maxTtl}
         * @throws IllegalStateException if the transport is not available here
         */
        public DnsDiscover build() {
            Duration min = minTtl != null ? minTtl : DEFAULT_MIN_TTL;
            Duration max = maxTtl != null ? maxTtl : DEFAULT_MAX_TTL;
            if (min.compareTo(max) > 0) {
                throw new IllegalArgumentException("minTtl (" + min + ") must not exceed maxTtl (" + max + ")");
            }
            Transport chosen = transport != null ? transport : Transport.select();
            EventLoopGroup owned = null;
            EventLoop loop = eventLoop;
            if (loop == null) {
                owned = chosen.newEventLoopGroup(1, "belfry-dns");
                loop = owned.next();
            }
            try {
                List<Channel> channels = new CopyOnWriteArrayList<>();
                ChannelFactory<? extends DatagramChannel> datagrams =
                        new ReflectiveChannelFactory<>(chosen.datagramChannelType());
                DnsNameResolverBuilder netty = new DnsNameResolverBuilder(loop)
                        .datagramChannelFactory(new ChannelFactory<DatagramChannel>() {
                            @Override
                            public DatagramChannel newChannel() {
                                DatagramChannel channel = datagrams.newChannel();
                                channels.add(channel);
                                // Forgotten once closed, in case a channel-per-lookup strategy is configured.
                                channel.closeFuture().addListener(closed -> channels.remove(channel));
                                return channel;
                            }
                        })
                        .socketChannelType(chosen.channelType())
                        .queryTimeoutMillis((queryTimeout != null ? queryTimeout : DEFAULT_QUERY_TIMEOUT).toMillis())
                        // Discovery does its own TTL bookkeeping: Netty's caches would answer from memory
                        // and hide the server's changes until their own expiry.
                        .resolveCache(NoopDnsCache.INSTANCE)
                        .cnameCache(NoopDnsCnameCache.INSTANCE)
                        .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE);
                if (addressTypes != null) {
                    netty.resolvedAddressTypes(addressTypes);
                }
                if (nameServers != null) {
                    netty.nameServerProvider(new SequentialDnsServerAddressStreamProvider(nameServers));
                }
                if (resolverConfig != null) {
                    resolverConfig.accept(netty);
                }
                return new DnsDiscover(this, netty.build(), owned, channels);
            } catch (RuntimeException e) {
                if (owned != null) {
                    owned.shutdownGracefully(0, 2, TimeUnit.SECONDS);
                }
                throw e;
            }
        }
    }
}
