package dev.belfry.netty.dns;

import dev.belfry.Checks;
import dev.belfry.backoff.Backoff;
import dev.belfry.discover.Change;
import dev.belfry.discover.Discover;
import dev.belfry.discover.DiscoverSource;
import dev.belfry.netty.transport.Transport;
import dev.belfry.time.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * <p>Thread-safe. Subscribers are called as {@link DiscoverSource} describes, on the event-loop
 * thread that received the answer; they must not block.
 */
public final class DnsDiscover implements Discover<InetSocketAddress, DnsEndpoint>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DnsDiscover.class.getName());

    private final String host;
    private final int port;
    private final boolean srv;
    private final Clock clock;
    private final Duration minTtl;
    private final Duration maxTtl;
    private final Duration hold;
    private final Backoff backoff;
    private final List<DnsRecordType> types;
    private final DnsNameResolver resolver;
    private final @Nullable EventLoopGroup ownedGroup;
    // The resolver's datagram channels, recorded as created so close() can wait for them.
    private final List<Channel> channels;
    private final DiscoverSource<InetSocketAddress, DnsEndpoint> source = DiscoverSource.create();
    private final CompletableFuture<State> started = new CompletableFuture<>();

    // Guarded by this. Only one lookup is in flight at a time: the next is scheduled when one ends.
    private boolean startRequested;
    private boolean closed;
    private Status status = Status.STARTING;
    private Clock.@Nullable Scheduled timer;
    private long timerDueNanos;
    private @Nullable Duration ttl;
    private boolean everSucceeded;
    private long lastSuccessNanos;
    private long failingSinceNanos;
    private int consecutiveFailures;
    private @Nullable DnsResolutionException lastError;
    private long lookups;
    private @Nullable CompletableFuture<State> nextLookup;

    private DnsDiscover(
            Builder builder, DnsNameResolver resolver, @Nullable EventLoopGroup ownedGroup, List<Channel> channels) {
        this.host = builder.host;
        this.port = builder.port;
        this.srv = builder.srv;
        this.clock = builder.clock != null ? builder.clock : Clock.system();
        this.minTtl = builder.minTtl != null ? builder.minTtl : Builder.DEFAULT_MIN_TTL;
        this.maxTtl = builder.maxTtl != null ? builder.maxTtl : Builder.DEFAULT_MAX_TTL;
        this.hold = builder.hold != null ? builder.hold : Builder.DEFAULT_HOLD;
        this.backoff = builder.backoff != null
                ? builder.backoff
                : Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(30), ThreadLocalRandom.current());
        this.resolver = resolver;
        this.ownedGroup = ownedGroup;
        this.channels = channels;
        this.types = switch (resolver.resolvedAddressTypes()) {
            case IPV4_ONLY -> List.of(DnsRecordType.A);
            case IPV6_ONLY -> List.of(DnsRecordType.AAAA);
            case IPV4_PREFERRED -> List.of(DnsRecordType.A, DnsRecordType.AAAA);
            case IPV6_PREFERRED -> List.of(DnsRecordType.AAAA, DnsRecordType.A);
        };
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
            first = !startRequested && !closed;
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
    public synchronized State state() {
        long now = clock.nanoTime();
        return new State(
                host,
                port,
                status,
                source.size(),
                ttl,
                everSucceeded ? Duration.ofNanos(now - lastSuccessNanos) : null,
                consecutiveFailures,
                lastError,
                timer != null ? Duration.ofNanos(Math.max(0, timerDueNanos - now)) : null,
                lookups);
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
        Clock.Scheduled pending;
        CompletableFuture<State> waiting;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            status = Status.CLOSED;
            pending = timer;
            timer = null;
            waiting = nextLookup;
            nextLookup = null;
        }
        if (pending != null) {
            pending.cancel();
        }
        resolver.close();
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
        if (closed) {
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
        synchronized (this) {
            if (closed) {
                return;
            }
            timer = null;
        }
        CompletableFuture<Result> result = srv ? lookupSrv() : lookupAddresses();
        result.whenComplete((done, failure) -> {
            if (failure != null) {
                failed(new DnsResolutionException(host, DnsResolutionException.Kind.OTHER, failure));
            } else if (done.error() != null) {
                failed(done.error());
            } else {
                succeeded(done.endpoints(), done.minTtlSeconds());
            }
        });
    }

    private CompletableFuture<Result> lookupAddresses() {
        return addresses(host).thenApply(answer -> {
            if (answer.kind() != null) {
                return Result.failed(new DnsResolutionException(host, answer.kind(), answer.cause()));
            }
            Map<InetSocketAddress, DnsEndpoint> endpoints = new LinkedHashMap<>();
            for (InetAddress address : answer.addresses()) {
                InetSocketAddress key = new InetSocketAddress(address, port);
                endpoints.putIfAbsent(key, DnsEndpoint.of(key));
            }
            return new Result(endpoints, answer.minTtlSeconds(), null);
        });
    }

    // SRV: the service's records name targets and ports; each target's addresses are then resolved.
    // A transient failure anywhere fails the lookup (half an answer never replaces a whole one); a
    // target that does not resolve contributes nothing, as clients of SRV records do.
    private CompletableFuture<Result> lookupSrv() {
        return records(host, DnsRecordType.SRV, this::parseSrv).thenCompose(srvAnswer -> {
            if (srvAnswer.kind() != null) {
                return CompletableFuture.completedFuture(
                        Result.failed(new DnsResolutionException(host, srvAnswer.kind(), srvAnswer.cause())));
            }
            List<SrvTarget> targets = srvAnswer.values();
            List<CompletableFuture<Answer<InetAddress>>> resolved = new ArrayList<>(targets.size());
            for (SrvTarget target : targets) {
                resolved.add(addresses(target.name()));
            }
            return CompletableFuture.allOf(resolved.toArray(CompletableFuture<?>[]::new))
                    .thenApply(ignored -> {
                        Map<InetSocketAddress, DnsEndpoint> endpoints = new LinkedHashMap<>();
                        long minTtlSeconds = srvAnswer.minTtlSeconds();
                        Answer<InetAddress> transientFailure = null;
                        Answer<InetAddress> negative = null;
                        for (int i = 0; i < targets.size(); i++) {
                            SrvTarget target = targets.get(i);
                            Answer<InetAddress> answer = resolved.get(i).join();
                            if (answer.kind() == null) {
                                for (InetAddress address : answer.addresses()) {
                                    InetSocketAddress key = new InetSocketAddress(address, target.port());
                                    // The same address and port twice: the most preferred record wins.
                                    endpoints.merge(
                                            key,
                                            new DnsEndpoint(key, target.priority(), Math.max(1, target.weight())),
                                            (kept, other) -> kept.priority() <= other.priority() ? kept : other);
                                }
                                minTtlSeconds = Math.min(minTtlSeconds, answer.minTtlSeconds());
                            } else if (answer.isTransient()) {
                                transientFailure = transientFailure == null ? answer : transientFailure;
                            } else {
                                negative = negative == null ? answer : negative;
                            }
                        }
                        if (transientFailure != null) {
                            return Result.failed(new DnsResolutionException(
                                    host, Checks.notNull(transientFailure.kind(), "kind"), transientFailure.cause()));
                        }
                        if (endpoints.isEmpty()) {
                            return Result.failed(new DnsResolutionException(
                                    host,
                                    DnsResolutionException.Kind.NO_RECORDS,
                                    negative != null ? negative.cause() : null));
                        }
                        return new Result(endpoints, minTtlSeconds, null);
                    });
        });
    }

    /** The addresses of {@code name}, from every queried family, or the failure that counts. */
    private CompletableFuture<Answer<InetAddress>> addresses(String name) {
        List<CompletableFuture<Answer<InetAddress>>> answers = new ArrayList<>(types.size());
        for (DnsRecordType type : types) {
            answers.add(records(name, type, (record, raw) -> parseAddress(name, type, raw)));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture<?>[]::new))
                .thenApply(ignored -> {
                    List<InetAddress> addresses = new ArrayList<>();
                    long minTtlSeconds = Long.MAX_VALUE;
                    Answer<InetAddress> transientFailure = null;
                    Answer<InetAddress> negative = null;
                    for (CompletableFuture<Answer<InetAddress>> future : answers) {
                        Answer<InetAddress> answer = future.join();
                        if (answer.kind() == null) {
                            addresses.addAll(answer.values());
                            minTtlSeconds = Math.min(minTtlSeconds, answer.minTtlSeconds());
                        } else if (answer.isTransient()) {
                            transientFailure = transientFailure == null ? answer : transientFailure;
                        } else if (negative == null || answer.kind() == DnsResolutionException.Kind.NXDOMAIN) {
                            negative = answer;
                        }
                    }
                    if (transientFailure != null) {
                        return transientFailure;
                    }
                    if (addresses.isEmpty()) {
                        // Non-null: with no addresses and no transient failure, some answer was negative.
                        return Checks.notNull(negative, "negative answer");
                    }
                    return new Answer<>(addresses, minTtlSeconds, null, null);
                });
    }

    /**
     * Queries {@code name} for {@code type} and parses each record of that type; records that parse
     * to null are skipped, and an answer with none left is {@code NO_RECORDS}.
     */
    private <T> CompletableFuture<Answer<T>> records(String name, DnsRecordType type, RecordParser<T> parser) {
        CompletableFuture<Answer<T>> answer = new CompletableFuture<>();
        Future<List<DnsRecord>> lookup;
        try {
            lookup = resolver.resolveAll(new DefaultDnsQuestion(name, type));
        } catch (RuntimeException e) {
            answer.complete(Answer.failed(classify(e), e));
            return answer;
        }
        lookup.addListener(done -> {
            if (!lookup.isSuccess()) {
                Throwable cause = lookup.cause();
                answer.complete(Answer.failed(classify(cause), cause));
                return;
            }
            List<DnsRecord> records = lookup.getNow();
            try {
                List<T> values = new ArrayList<>(records.size());
                long minTtlSeconds = Long.MAX_VALUE;
                for (DnsRecord record : records) {
                    if (!record.type().equals(type) || !(record instanceof DnsRawRecord raw)) {
                        continue;
                    }
                    T value = parser.parse(record, raw.content());
                    if (value != null) {
                        values.add(value);
                        minTtlSeconds = Math.min(minTtlSeconds, record.timeToLive());
                    }
                }
                answer.complete(
                        values.isEmpty()
                                ? Answer.failed(DnsResolutionException.Kind.NO_RECORDS, null)
                                : new Answer<>(values, minTtlSeconds, null, null));
            } catch (RuntimeException e) {
                answer.complete(Answer.failed(DnsResolutionException.Kind.OTHER, e));
            } finally {
                // The resolver hands us reference-counted records; we own them from here.
                for (DnsRecord record : records) {
                    ReferenceCountUtil.release(record);
                }
            }
        });
        return answer;
    }

    private @Nullable InetAddress parseAddress(String name, DnsRecordType type, ByteBuf content) {
        int length = type.equals(DnsRecordType.A) ? 4 : 16;
        byte[] bytes = ByteBufUtil.getBytes(content);
        if (bytes.length != length) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> "ignoring a " + type.name() + " record of " + bytes.length + " bytes for " + name);
            return null;
        }
        try {
            // Keeps the host name on the address, for TLS server names and diagnostics.
            return InetAddress.getByAddress(stripDot(name), bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("unreachable: the length was checked", e);
        }
    }

    private @Nullable SrvTarget parseSrv(DnsRecord record, ByteBuf content) {
        if (content.readableBytes() < 7) {
            LOG.log(System.Logger.Level.DEBUG, () -> "ignoring a short SRV record for " + host);
            return null;
        }
        // A duplicate, so reading does not move the record's own indexes. The target name may use
        // compression pointers into the whole message, which the content buffer still holds.
        ByteBuf in = content.duplicate();
        int priority = in.readUnsignedShort();
        int weight = in.readUnsignedShort();
        int srvPort = in.readUnsignedShort();
        String target = DefaultDnsRecordDecoder.decodeName(in);
        if (srvPort == 0 || target.equals(".")) {
            // RFC 2782: a target of "." means the service is decidedly not available at this name.
            return null;
        }
        return new SrvTarget(target, srvPort, priority, weight);
    }

    private static String stripDot(String name) {
        return name.endsWith(".") && name.length() > 1 ? name.substring(0, name.length() - 1) : name;
    }

    private void succeeded(Map<InetSocketAddress, DnsEndpoint> endpoints, long minTtlSeconds) {
        Duration delay = clamp(minTtlSeconds);
        boolean recovered;
        synchronized (this) {
            if (closed) {
                return;
            }
            recovered = consecutiveFailures > 0;
            status = Status.OK;
            ttl = delay;
            everSucceeded = true;
            lastSuccessNanos = clock.nanoTime();
            consecutiveFailures = 0;
            lookups++;
        }
        // Outside our lock: subscribers run here and may read state().
        int changes = source.replaceAll(endpoints);
        if (recovered) {
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "DNS for " + host + " recovered: " + endpoints.size() + " endpoints");
        } else if (changes > 0) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> "DNS for " + host + ": " + changes + " changes, " + endpoints.size()
                            + " endpoints, next lookup in " + delay);
        }
        scheduleAndReport(delay, null);
    }

    private void failed(DnsResolutionException error) {
        Duration delay;
        boolean drop = false;
        int failures;
        Status now;
        Status before;
        synchronized (this) {
            if (closed) {
                return;
            }
            before = status;
            consecutiveFailures++;
            failures = consecutiveFailures;
            long nanos = clock.nanoTime();
            if (failures == 1) {
                failingSinceNanos = nanos;
            }
            lastError = error;
            lookups++;
            boolean holdOver = nanos - failingSinceNanos >= hold.toNanos();
            if (source.size() == 0) {
                status = Status.FAILED;
            } else if (!holdOver) {
                status = Status.HOLDING;
            } else if (error.kind() == DnsResolutionException.Kind.NXDOMAIN) {
                drop = true;
                status = Status.FAILED;
            } else {
                status = Status.STALE;
            }
            now = status;
            delay = backoff.delay(failures);
        }
        if (drop) {
            int removed = source.replaceAll(Map.of());
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> error.getMessage() + " for longer than the hold of " + hold + "; removed all " + removed
                            + " endpoints");
        } else if (failures == 1) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> error.getMessage() + "; keeping " + source.size() + " endpoints, retrying in " + delay);
        } else if (now == Status.STALE && before != Status.STALE) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> error.getMessage() + " for longer than the hold of " + hold
                            + "; still serving the last good answer (" + source.size() + " endpoints)");
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> error.getMessage() + " (" + failures + " failures in a row)");
        }
        scheduleAndReport(delay, error);
    }

    private void scheduleAndReport(Duration delay, @Nullable DnsResolutionException error) {
        CompletableFuture<State> waiting;
        synchronized (this) {
            if (closed) {
                return;
            }
            timerDueNanos = clock.nanoTime() + delay.toNanos();
            timer = clock.schedule(delay, this::lookup);
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

    private Duration clamp(long ttlSeconds) {
        Duration answered = Duration.ofSeconds(Math.max(0, Math.min(ttlSeconds, Integer.MAX_VALUE)));
        if (answered.compareTo(minTtl) < 0) {
            return minTtl;
        }
        return answered.compareTo(maxTtl) > 0 ? maxTtl : answered;
    }

    private static DnsResolutionException.Kind classify(@Nullable Throwable failure) {
        boolean unknownHost = false;
        int depth = 0;
        // Bounded, in case of a cause cycle.
        for (Throwable cause = failure; cause != null && depth < 16; cause = cause.getCause(), depth++) {
            if (cause instanceof DnsErrorCauseException dns) {
                DnsResponseCode code = dns.getCode();
                if (code.intValue() == DnsResponseCode.NXDOMAIN.intValue()) {
                    return DnsResolutionException.Kind.NXDOMAIN;
                }
                return code.intValue() == DnsResponseCode.SERVFAIL.intValue()
                        ? DnsResolutionException.Kind.SERVFAIL
                        : DnsResolutionException.Kind.OTHER;
            }
            if (cause instanceof DnsNameResolverTimeoutException) {
                return DnsResolutionException.Kind.TIMEOUT;
            }
            if (cause instanceof UnknownHostException) {
                unknownHost = true;
            }
        }
        // Netty reports "the server answered, but with nothing we asked for" as an UnknownHostException
        // with no DNS error or timeout behind it.
        return unknownHost ? DnsResolutionException.Kind.NO_RECORDS : DnsResolutionException.Kind.OTHER;
    }

    @Override
    public String toString() {
        return "DnsDiscover[" + host + ":" + port + ", " + state().status() + "]";
    }

    /** The outcome of one query: parsed values and their smallest TTL, or a failure. */
    private record Answer<T>(
            List<T> values,
            long minTtlSeconds,
            DnsResolutionException.@Nullable Kind kind,
            @Nullable Throwable cause) {

        static <T> Answer<T> failed(DnsResolutionException.Kind kind, @Nullable Throwable cause) {
            return new Answer<>(List.of(), Long.MAX_VALUE, kind, cause);
        }

        List<T> addresses() {
            return values;
        }

        boolean isTransient() {
            return kind == DnsResolutionException.Kind.SERVFAIL
                    || kind == DnsResolutionException.Kind.TIMEOUT
                    || kind == DnsResolutionException.Kind.OTHER;
        }
    }

    /** The outcome of one whole lookup: the endpoints and their smallest TTL, or the error. */
    private record Result(
            Map<InetSocketAddress, DnsEndpoint> endpoints,
            long minTtlSeconds,
            @Nullable DnsResolutionException error) {
        static Result failed(DnsResolutionException error) {
            return new Result(Map.of(), Long.MAX_VALUE, error);
        }
    }

    /** One SRV record: where the service runs and how to prefer it. */
    private record SrvTarget(String name, int port, int priority, int weight) {}

    /** Parses one record's data; null skips the record. */
    @FunctionalInterface
    private interface RecordParser<T> {
        @Nullable
        T parse(DnsRecord record, ByteBuf content);
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
