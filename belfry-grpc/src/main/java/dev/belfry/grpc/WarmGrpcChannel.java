package dev.belfry.grpc;

import dev.belfry.Checks;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.WarmPool;
import dev.belfry.hedge.LatencyHistogram;
import dev.belfry.retry.RetryBudget;
import dev.belfry.time.Clock;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An always-ready, load-balanced, health-checked gRPC client channel: an {@link io.grpc.Channel}
 * over a {@link WarmPool} whose members are grpc-java {@link ManagedChannel}s, one per member, each
 * connected eagerly to one resolved address. Generated stubs use it unchanged.
 *
 * <pre>{@code
 * WarmGrpcChannel channel = WarmGrpcChannel.builder("users", AddressSource.of(addresses))
 *         .metrics(registry)
 *         .build();                        // connects and health-checks at once
 * UsersGrpc.UsersBlockingStub users = UsersGrpc.newBlockingStub(channel);
 * User ada = users.withDeadlineAfter(2, SECONDS).get(GetUser.newBuilder().setId(7).build());
 * channel.close();
 * }</pre>
 *
 * <p><b>Members.</b> The pool keeps {@code want} members (3) spread over the addresses, with
 * warm_channels' semantics and defaults (see {@code docs/channels.md}). A member is a plaintext
 * {@link NettyChannelBuilder} channel to one address; it connects when created and counts as
 * connected once {@code READY}. Its connection leaving {@code READY} drops it, and the pool replaces
 * it under that address's backoff.
 *
 * <p><b>Health.</b> Each member is probed with {@code grpc.health.v1.Health} for the configured
 * service ({@code ""}, the whole server, by default), every 9 s with a 7.5 s timeout (the crate's
 * values): a {@code Watch} stream where the server supports it (a pushed {@code NOT_SERVING}
 * takes the member out of rotation at once), {@code Check} where it answers {@code
 * UNIMPLEMENTED}. A status other than {@code SERVING} makes the member unhealthy in the pool.
 *
 * <p><b>Calls.</b> Each call is balanced on its own by the pool (power of two choices over
 * Peak-EWMA, measured to the end of the call), and may use every feature of a grpc-java call:
 * all four kinds, deadlines, cancellation, metadata, compression, client interceptors (wrap this
 * channel with {@link io.grpc.ClientInterceptors}). A call made while no member is ready waits up
 * to the pool's fail-fast wait (3 s, or the call's deadline if earlier) and then fails {@code
 * UNAVAILABLE} with a description naming the channel and its last error.
 *
 * <p><b>Retries.</b> An attempt that closed {@code UNAVAILABLE} without its stream's headers ever
 * being sent (so it never reached a server) is retried at once on another member, at most {@link
 * Builder#maxRetries} times (2) and within a {@link RetryBudget} (the core's defaults: 20 % of calls
 * plus 10 per second). Idempotent methods (marked {@code idempotency_level = IDEMPOTENT} in the
 * proto, or called with {@link #IDEMPOTENT}) are also retried when the connection failed, or the
 * server reset the stream, before any server answered. Nothing is retried once the caller has seen a response header or message.
 * Other failures reach the caller unchanged.
 *
 * <p><b>Metrics.</b> With {@link Builder#metrics}: {@code grpc_client_started_total}, {@code
 * grpc_client_handled_total{grpc_code}} (the code the call closed with) and {@code
 * grpc_client_handling_seconds} (start to close), labelled {@code grpc_service}, {@code
 * grpc_method} and {@code channel}.
 *
 * <p>Thread-safe. {@link #close} stops the pool and shuts every member down (calls in flight
 * finish); {@link #awaitTermination} waits for that.
 */
public final class WarmGrpcChannel extends Channel implements AutoCloseable {
    /**
     * A call option marking a call as safe to repeat: it is then also retried on another member when
     * its connection failed before any server answered (not only when it never left).
     */
    public static final CallOptions.Key<Boolean> IDEMPOTENT =
            CallOptions.Key.createWithDefault("dev.belfry.grpc.idempotent", false);

    /** The window over which hedging learns a method's latencies, by default (see {@link Builder#hedging}). */
    public static final Duration DEFAULT_HEDGE_WINDOW = Duration.ofSeconds(1);

    /** The calls of a method a window must hold before its calls are hedged, by default. */
    public static final int DEFAULT_HEDGE_MIN_SAMPLES = 20;

    /** The default number of retries on other members after a first attempt. */
    public static final int DEFAULT_MAX_RETRIES = 2;

    // Closes the caller's call when the channel, not a member, ends it (no member, a deadline):
    // rare, so a virtual thread each.
    private static final ExecutorService CALLBACKS = Executors.newVirtualThreadPerTaskExecutor();

    private final String name;
    private final Clock clock;
    private final RetryBudget budget;
    private final int maxRetries;
    private final @Nullable ClientMetrics metrics;
    private final @Nullable Executor executor;
    private final String authority;
    private final Set<ManagedChannel> memberChannels = ConcurrentHashMap.newKeySet();
    private final WarmPool<InetSocketAddress, Attempt<?, ?>, Status> pool;
    // Hedging: off when the percentile is 0; one latency histogram per method.
    private final double hedgePercentile;
    private final Duration hedgeWindow;
    private final int hedgeMinSamples;
    private final ConcurrentHashMap<String, LatencyHistogram> hedgeLatencies = new ConcurrentHashMap<>();

    private WarmGrpcChannel(Builder builder) {
        this.name = builder.name;
        this.clock = builder.clock;
        this.budget = builder.budget != null ? builder.budget : RetryBudget.of(clock);
        this.maxRetries = builder.maxRetries;
        this.metrics = builder.registry == null ? null : ClientMetrics.on(builder.registry);
        this.executor = builder.executor;
        this.authority = builder.authority != null ? builder.authority : builder.name;
        this.hedgePercentile = builder.hedgePercentile;
        this.hedgeWindow = builder.hedgeWindow;
        this.hedgeMinSamples = builder.hedgeMinSamples;
        GrpcMember.HealthSettings health = builder.healthChecking
                ? new GrpcMember.HealthSettings(builder.healthService, builder.healthTimeout)
                : null;
        WarmPool.Builder<InetSocketAddress, Attempt<?, ?>, Status> poolBuilder = WarmPool.builder(
                        name,
                        builder.source,
                        address -> GrpcMember.connect(address, memberChannel(builder, address), health))
                .healthChecks(builder.healthInterval, builder.healthTimeout)
                .serverFault(WarmGrpcChannel::blamesTheServer)
                .clock(clock);
        if (builder.poolSettings != null) {
            builder.poolSettings.accept(poolBuilder);
        }
        this.pool = poolBuilder.build();
    }

    /**
     * A builder of a channel named {@code name} (in logs, metrics and errors) over the addresses of
     * {@code source}, such as {@code AddressSource.of(List.of(new InetSocketAddress("10.0.0.7",
     * 8443)))} or {@code AddressSource.ipLiteral("10.0.0.7", 8443)}.
     */
    public static Builder builder(String name, AddressSource<InetSocketAddress> source) {
        return new Builder(name, source);
    }

    private ManagedChannel memberChannel(Builder builder, InetSocketAddress address) {
        NettyChannelBuilder member = NettyChannelBuilder.forAddress(address)
                .usePlaintext()
                // The pool decides when a member goes; grpc-java's own idle mode would only fight it.
                .idleTimeout(30, TimeUnit.DAYS)
                // Retries are the channel's (on another member, within its budget). grpc-java's
                // own retry would resend to the same server, and its replay buffer cost a third of
                // the client's CPU per unary call in bench/channel-compare.sh.
                .disableRetry();
        if (builder.eventLoopGroup != null && builder.channelType != null) {
            member.eventLoopGroup(builder.eventLoopGroup).channelType(builder.channelType);
        }
        if (executor != null) {
            member.executor(executor);
        }
        if (builder.authority != null) {
            member.overrideAuthority(builder.authority);
        }
        if (builder.memberSettings != null) {
            builder.memberSettings.accept(member);
        }
        ManagedChannel built = member.build();
        memberChannels.removeIf(ManagedChannel::isTerminated);
        memberChannels.add(built);
        return built;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(
            MethodDescriptor<ReqT, RespT> method, CallOptions callOptions) {
        if (hedgePercentile > 0
                && method.getType() == MethodDescriptor.MethodType.UNARY
                && idempotent(method, callOptions)) {
            LatencyHistogram latencies = hedgeLatencies.get(method.getFullMethodName());
            if (latencies == null) {
                // Once per method: the lambda below captures this channel, so it is not made per call.
                latencies = hedgeLatencies.computeIfAbsent(
                        method.getFullMethodName(),
                        ignored -> new LatencyHistogram(hedgeWindow.toNanos(), clock.nanoTime()));
            }
            return new HedgedCall<>(
                    this, method, callOptions, latencies, metrics == null ? null : metrics.method(method, name));
        }
        return new WarmCall<>(this, method, callOptions);
    }

    /** Whether a call may be repeated: its method is marked idempotent or safe, or the call {@link #IDEMPOTENT}. */
    static boolean idempotent(MethodDescriptor<?, ?> method, CallOptions options) {
        return method.isIdempotent() || method.isSafe() || Boolean.TRUE.equals(options.getOption(IDEMPOTENT));
    }

    /** The authority calls carry: the builder's {@link Builder#overrideAuthority}, else the channel's name. */
    @Override
    public String authority() {
        return authority;
    }

    /** The channel's name. */
    public String name() {
        return name;
    }

    /** A snapshot of the channel's pool: state, addresses, members and errors (for diagnostics). */
    public CompletableFuture<PoolStatus> status() {
        return pool.status();
    }

    /**
     * Calls {@code listener} with the channel's current state at once, then with each change (keep
     * it short); for a readiness endpoint, say. Returns a handle that stops the calls.
     */
    public AutoCloseable onStateChange(Consumer<? super PoolState> listener) {
        return pool.onStateChange(listener);
    }

    /** Completes when the channel first becomes healthy ({@code healthyMin} healthy members) or is closed. */
    public CompletionStage<Void> whenReady() {
        return pool.whenReady();
    }

    /** Stops the pool and shuts every member channel down; calls in flight finish. Idempotent. */
    @Override
    public void close() {
        pool.close();
        for (ManagedChannel member : memberChannels) {
            member.shutdown();
        }
    }

    /**
     * After {@link #close}, waits up to {@code timeout} for every member channel to terminate, then
     * shuts down the rest at once (failing their calls); returns whether all had terminated.
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        // Real time, not the channel's clock: grpc-java's awaitTermination blocks in real time.
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean all = true;
        for (ManagedChannel member : new HashSet<>(memberChannels)) {
            long left = deadline - System.nanoTime();
            if (!member.awaitTermination(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                member.shutdownNow();
                all = false;
            }
        }
        return all;
    }

    @Override
    public String toString() {
        return "WarmGrpcChannel[" + name + "]";
    }

    WarmPool<InetSocketAddress, Attempt<?, ?>, Status> pool() {
        return pool;
    }

    /**
     * Whether a call's status says its member is in trouble, not that the call was wrong: these
     * count as failures in the balancer's estimate of the member (the pool's failure penalty), so a
     * member that answers fast with errors does not draw more calls. {@code DEADLINE_EXCEEDED} is
     * not among them: the time it took is measured as it is.
     */
    static boolean blamesTheServer(Status status) {
        return switch (status.getCode()) {
            case UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN, DATA_LOSS -> true;
            default -> false;
        };
    }

    Clock clock() {
        return clock;
    }

    RetryBudget budget() {
        return budget;
    }

    int maxRetries() {
        return maxRetries;
    }

    double hedgePercentile() {
        return hedgePercentile;
    }

    int hedgeMinSamples() {
        return hedgeMinSamples;
    }

    @Nullable
    ClientMetrics metrics() {
        return metrics;
    }

    Executor callbackExecutor() {
        return executor != null ? executor : CALLBACKS;
    }

    /**
     * Settings of a {@link WarmGrpcChannel}; each may be set once. The pool's own settings (member
     * counts, backoff, hysteresis, fail-fast wait...) are set through {@link #pool}.
     */
    public static final class Builder {
        private final String name;
        private final AddressSource<InetSocketAddress> source;
        private final Set<String> set = new HashSet<>();
        private @Nullable Consumer<? super WarmPool.Builder<InetSocketAddress, ?, ?>> poolSettings;
        private String healthService = "";
        private boolean healthChecking = true;
        private Duration healthInterval = Duration.ofSeconds(9);
        private Duration healthTimeout = Duration.ofMillis(7500);
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private @Nullable RetryBudget budget;
        private @Nullable PrometheusRegistry registry;
        private @Nullable Executor executor;
        private @Nullable EventLoopGroup eventLoopGroup;
        private @Nullable Class<? extends io.netty.channel.Channel> channelType;
        private @Nullable String authority;
        private @Nullable Consumer<? super NettyChannelBuilder> memberSettings;
        private double hedgePercentile;
        private Duration hedgeWindow = DEFAULT_HEDGE_WINDOW;
        private int hedgeMinSamples = DEFAULT_HEDGE_MIN_SAMPLES;
        private Clock clock = Clock.system();

        private Builder(String name, AddressSource<InetSocketAddress> source) {
            this.name = Checks.notNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.source = Checks.notNull(source, "source");
        }

        private void once(String setting) {
            if (!set.add(setting)) {
                throw new IllegalStateException(setting + " was already set");
            }
        }

        /**
         * Sets the pool's settings: {@code want}, {@code healthyMin}, {@code criticalMin}, backoff,
         * warnings, hysteresis, draining, maximum connection age, fail-fast wait, random, log (see
         * {@link WarmPool.Builder}). Health checks and the clock are set here, not there.
         */
        public Builder pool(Consumer<? super WarmPool.Builder<InetSocketAddress, ?, ?>> settings) {
            once("pool");
            this.poolSettings = Checks.notNull(settings, "settings");
            return this;
        }

        /** The service name members are health-checked for ({@code ""}: the whole server). */
        public Builder healthService(String service) {
            once("healthService");
            this.healthService = Checks.notNull(service, "service");
            return this;
        }

        /**
         * Whether members are health-checked with {@code grpc.health.v1.Health} (true); when false, a
         * connected member is healthy, for servers without the health service.
         */
        public Builder healthChecking(boolean enabled) {
            once("healthChecking");
            this.healthChecking = enabled;
            return this;
        }

        /** Time from one probe's result to the next (9 s) and a probe's longest run (7.5 s). */
        public Builder healthChecks(Duration interval, Duration timeout) {
            once("healthChecks");
            this.healthInterval = Checks.positive(interval, "interval");
            this.healthTimeout = Checks.positive(timeout, "timeout");
            return this;
        }

        /** Retries on other members after a first attempt, for calls that may be retried (2; 0 turns retries off). */
        public Builder maxRetries(int retries) {
            once("maxRetries");
            this.maxRetries = (int) Checks.inRange(retries, 0, 100, "maxRetries");
            return this;
        }

        /** The budget retries draw from ({@link RetryBudget#of} on the channel's clock); share one across clients. */
        public Builder retryBudget(RetryBudget budget) {
            once("retryBudget");
            this.budget = Checks.notNull(budget, "budget");
            return this;
        }

        /**
         * Hedges idempotent unary calls (off by default): a call that has not answered once {@code
         * percentile} (in (0, 100), such as 95) of its method's recent latencies has passed gets a
         * backup call on another member; the first answer wins and the other call is cancelled.
         * Latencies are learnt per method over a window of 1 s, and no
         * call is hedged until the last window held {@value #DEFAULT_HEDGE_MIN_SAMPLES} calls of
         * its method. Each backup spends a token of the retry budget, so backups stay a bounded
         * share of the calls. Only calls that may be repeated are hedged (see {@link #IDEMPOTENT});
         * streaming calls never are.
         */
        public Builder hedging(double percentile) {
            return hedging(percentile, DEFAULT_HEDGE_WINDOW, DEFAULT_HEDGE_MIN_SAMPLES);
        }

        /**
         * Hedges idempotent unary calls as {@link #hedging(double)} does, learning latencies over
         * {@code window} and hedging once the last window held {@code minSamples} calls of a method.
         */
        public Builder hedging(double percentile, Duration window, int minSamples) {
            once("hedging");
            if (!(percentile > 0 && percentile < 100)) {
                throw new IllegalArgumentException("percentile must be in (0, 100), was " + percentile);
            }
            this.hedgePercentile = percentile;
            this.hedgeWindow = Checks.positive(window, "window");
            this.hedgeMinSamples = Checks.positive(minSamples, "minSamples");
            return this;
        }

        /** Registers the per-call client metrics on {@code registry} (none by default). */
        public Builder metrics(PrometheusRegistry registry) {
            once("metrics");
            this.registry = Checks.notNull(registry, "registry");
            return this;
        }

        /**
         * Where member channels run call callbacks (grpc-java's shared cached pool by default); the
         * caller owns it. A direct executor is fastest if no listener blocks.
         */
        public Builder executor(Executor executor) {
            once("executor");
            this.executor = Checks.notNull(executor, "executor");
            return this;
        }

        /**
         * The Netty event loops member channels run on and their channel class (grpc-java's shared
         * group by default), such as Belfry's {@code Transport.select().newEventLoopGroup(...)} with
         * {@code channelType()}; the caller owns the group.
         */
        public Builder eventLoopGroup(EventLoopGroup group, Class<? extends io.netty.channel.Channel> channelType) {
            once("eventLoopGroup");
            this.eventLoopGroup = Checks.notNull(group, "group");
            this.channelType = Checks.notNull(channelType, "channelType");
            return this;
        }

        /** The {@code :authority} of calls (by default each member's address). */
        public Builder overrideAuthority(String authority) {
            once("overrideAuthority");
            this.authority = Checks.notNull(authority, "authority");
            return this;
        }

        /**
         * Further settings of each member's {@link NettyChannelBuilder} (message sizes, keepalive,
         * interceptors...), applied after Belfry's (plaintext, no idle mode).
         */
        public Builder members(Consumer<? super NettyChannelBuilder> settings) {
            once("members");
            this.memberSettings = Checks.notNull(settings, "settings");
            return this;
        }

        /** The clock of the pool, of waits for a member and of metrics (the system clock). */
        public Builder clock(Clock clock) {
            once("clock");
            this.clock = Checks.notNull(clock, "clock");
            return this;
        }

        /**
         * Builds the channel, which starts resolving, connecting and health-checking at once.
         *
         * @throws IllegalArgumentException if a setting breaks a rule (named in the message)
         * @throws IllegalStateException if the pool's settings set health checks or the clock
         */
        public WarmGrpcChannel build() {
            return new WarmGrpcChannel(this);
        }
    }
}
