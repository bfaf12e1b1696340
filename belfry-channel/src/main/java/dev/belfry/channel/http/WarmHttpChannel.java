package dev.belfry.channel.http;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.UnprocessedException;
import dev.belfry.balance.Routed;
import dev.belfry.channel.AddressSource;
import dev.belfry.channel.PoolState;
import dev.belfry.channel.PoolStatus;
import dev.belfry.channel.WarmPool;
import dev.belfry.http.ConnectionClosedException;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.client.HttpClient;
import dev.belfry.http.client.Protocol;
import dev.belfry.http.internal.body.Observed;
import dev.belfry.netty.transport.Transport;
import dev.belfry.retry.RetryBudget;
import dev.belfry.time.Clock;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An always-ready, load-balanced, health-checked HTTP client channel: a {@code
 * Service<HttpRequest, HttpResponse>} over a {@link WarmPool} whose members are belfry-http {@link
 * HttpClient}s, one per member, each to one resolved address, connected before the first call.
 *
 * <pre>{@code
 * WarmHttpChannel users = WarmHttpChannel.builder("users", DnsAddressSource.of("users.internal", 8080))
 *         .healthCheck("/ready", 200)           // the defaults
 *         .authority("users.internal:8080")     // the Host header, else each member's address
 *         .build();                             // resolves, connects and probes at once
 * HttpResponse response = users.call(HttpRequest.get("/users/7")).join();
 * String text = response.body().collectUtf8(1 << 20).join();
 * users.close();
 * }</pre>
 *
 * <p><b>Members.</b> The pool keeps {@code want} members (3) spread over the addresses, with
 * warm_channels' semantics and defaults (see {@code docs/channels.md}). A member is one HTTP/2
 * connection by prior knowledge (h2c, the default: requests are multiplexed on it) or, with {@code
 * protocol(HTTP_1_1)}, a keep-alive pool of up to {@link Builder#connectionsPerMember} (8)
 * connections. It connects by sending its health request (any answer means connected), reconnects
 * by itself while its address accepts connections, and is gone, and replaced under the address's
 * backoff, once a connect to its address fails.
 *
 * <p><b>Health.</b> Each member sends {@code GET /ready} every 9 s with a 7.5 s timeout (the crate's
 * values) and is healthy when the answer is {@code 200}; the path, the status and both times are
 * options, and rise/fall hysteresis is the pool's. A member serves once its first probe passes.
 *
 * <p><b>Calls.</b> Each call goes to a member chosen by power of two choices over Peak-EWMA (its
 * latency measured to the response head). The response future completes with the head; the body
 * streams after it and must be read or discarded ({@link HttpResponse#close}). A call made while no
 * member can take it waits up to the pool's fail-fast wait (3 s) and then fails with {@link
 * dev.belfry.channel.NoMemberReadyException}, whose message names the channel and its last error.
 *
 * <p><b>Retries.</b> A call whose request certainly never reached a server (an {@link
 * UnprocessedException}: the connect failed, the keep-alive connection was found closed, the stream
 * was refused or above a GOAWAY) is retried at once on another member, at most {@link
 * Builder#maxRetries} times (1) and within a {@link RetryBudget}. An idempotent request ({@code
 * GET}, {@code HEAD}, {@code PUT}, {@code DELETE}, {@code OPTIONS}, {@code TRACE}) is also retried
 * when its connection closed before the response head arrived. Only requests whose body is held in
 * memory ({@link dev.belfry.http.Body#repeatable()}) are retried; a streamed body never is.
 *
 * <p><b>Metrics.</b> With {@link Builder#metrics}: {@code http_client_request_duration_seconds}
 * labelled {@code channel}, {@code method} and {@code status} (the code, or {@code error}), each
 * call once, timed to the end of its response body. The pool's {@code client_channels_*} come
 * from {@link dev.belfry.channel.metrics.ChannelMetrics} over the pool's registry.
 *
 * <p>Thread-safe. {@link #close} stops the pool; each member closes once its exchanges in flight
 * (bodies included) have ended, and the event loops the channel created stop after the last one.
 */
public final class WarmHttpChannel implements Service<HttpRequest, HttpResponse> {
    /** The default number of retries on another member after a first attempt. */
    public static final int DEFAULT_MAX_RETRIES = 1;

    /** The default number of connections an HTTP/1.1 member opens to its address. */
    public static final int DEFAULT_HTTP1_CONNECTIONS = 8;

    private final String name;
    private final RetryBudget budget;
    private final int maxRetries;
    private final boolean retryIdempotent;
    private final @Nullable String authority;
    private final EventLoopGroup group;
    private final @Nullable EventLoopGroup ownedGroup;
    private final AtomicInteger liveClients = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean groupStopped = new AtomicBoolean();
    private final Clock clock;
    private final @Nullable RequestMetrics metrics;
    private final WarmPool<InetSocketAddress, HttpRequest, HttpResponse> pool;

    private WarmHttpChannel(Builder builder) {
        this.name = builder.name;
        this.clock = builder.clock;
        this.metrics = builder.registry == null ? null : RequestMetrics.on(builder.registry);
        this.budget = builder.budget != null ? builder.budget : RetryBudget.of(builder.clock);
        this.maxRetries = builder.maxRetries;
        this.retryIdempotent = builder.retryIdempotent;
        this.authority = builder.authority;
        Transport transport;
        if (builder.group != null && builder.transport != null) {
            this.group = builder.group;
            this.ownedGroup = null;
            transport = builder.transport;
        } else {
            transport = Transport.select();
            this.group = transport.newEventLoopGroup(builder.ioThreads, "belfry-http-channel-" + name);
            this.ownedGroup = group;
        }
        HttpMember.HealthRequest health = new HttpMember.HealthRequest(
                builder.healthPath, builder.expectedStatus, builder.authority, builder.healthChecking);
        Protocol protocol = builder.protocol;
        int connections = builder.connectionsPerMember != null
                ? builder.connectionsPerMember
                : (protocol == Protocol.H2C ? 1 : DEFAULT_HTTP1_CONNECTIONS);
        Transport loops = transport;
        WarmPool.Builder<InetSocketAddress, HttpRequest, HttpResponse> poolBuilder = WarmPool.builder(
                        name, builder.source, address -> {
                            HttpClient.Builder client = HttpClient.builder(host(address), address.getPort())
                                    .protocol(protocol)
                                    .maxConnections(connections)
                                    .clock(builder.clock)
                                    .eventLoops(group, loops);
                            if (builder.clientSettings != null) {
                                builder.clientSettings.accept(client);
                            }
                            HttpClient built = client.build();
                            liveClients.incrementAndGet();
                            return HttpMember.connect(address, built, health, this::clientClosed);
                        })
                .healthChecks(builder.healthInterval, builder.healthTimeout)
                // A member answering 5xx is in trouble, however fast it answers.
                .serverFault(response -> response.status() >= 500)
                .clock(builder.clock);
        if (builder.poolSettings != null) {
            builder.poolSettings.accept(poolBuilder);
        }
        try {
            this.pool = poolBuilder.build();
        } catch (RuntimeException e) {
            if (ownedGroup != null) {
                ownedGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            }
            throw e;
        }
    }

    /**
     * A builder of a channel named {@code name} (in logs, metrics, errors and the diagnostics page)
     * over the addresses of {@code source}: {@code DnsAddressSource.of("users.internal", 8080)}, or
     * {@code AddressSource.of(List.of(new InetSocketAddress("10.0.0.7", 8080)))}.
     */
    public static Builder builder(String name, AddressSource<InetSocketAddress> source) {
        return new Builder(name, source);
    }

    private static String host(InetSocketAddress address) {
        // The literal address, so the member's client never resolves a name of its own.
        return address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    }

    private void clientClosed() {
        if (liveClients.decrementAndGet() == 0 && closed.get()) {
            stopGroup();
        }
    }

    private void stopGroup() {
        if (ownedGroup != null && groupStopped.compareAndSet(false, true)) {
            ownedGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        if (request == null) {
            return Futures.failed(new NullPointerException("request must not be null"));
        }
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("channel '" + name + "' is closed"));
        }
        budget.deposit();
        Exchange exchange = new Exchange(withAuthority(request));
        exchange.route(Set.of());
        return exchange.result;
    }

    /**
     * Admits {@code request} only if a member can take it now, else returns {@code null}; a retry of
     * an admitted request (see the class comment) may wait for a member as {@link #call} does.
     */
    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        if (request == null || closed.get()) {
            return null;
        }
        HttpRequest sent = withAuthority(request);
        CompletableFuture<HttpResponse> admitted = pool.tryCall(sent);
        if (admitted == null) {
            return null;
        }
        budget.deposit();
        Exchange exchange = new Exchange(sent);
        exchange.attempted(null, admitted);
        return exchange.result;
    }

    private HttpRequest withAuthority(HttpRequest request) {
        String host = authority;
        if (host == null || request.header("host") != null) {
            return request;
        }
        return request.toBuilder().setHeader("host", host).build();
    }

    /** Ready when a member would take a request now; closed after {@link #close}. */
    @Override
    public Readiness readiness() {
        return closed.get() ? Readiness.CLOSED : pool.readiness();
    }

    /**
     * Completes when the channel first becomes healthy ({@code healthyMin} healthy members) or is
     * closed; after that, when a member may have become ready.
     */
    @Override
    public CompletionStage<Void> whenReady() {
        return pool.whenReady();
    }

    /**
     * Calls {@code listener} with the channel's current state at once, then with each change (keep
     * it short); for a readiness endpoint, say. Returns a handle that stops the calls.
     */
    public AutoCloseable onStateChange(Consumer<? super PoolState> listener) {
        return pool.onStateChange(listener);
    }

    /** A snapshot of the channel's pool: state, addresses, members and errors (for diagnostics). */
    public CompletableFuture<PoolStatus> status() {
        return pool.status();
    }

    /** The channel's name. */
    public String name() {
        return name;
    }

    /**
     * Stops the pool: no new calls; each member closes once its exchanges in flight (bodies
     * included) have ended, and event loops the channel created stop after the last. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        pool.close();
        if (liveClients.get() == 0) {
            stopGroup();
        }
    }

    @Override
    public String toString() {
        return "WarmHttpChannel[" + name + "]";
    }

    WarmPool<InetSocketAddress, HttpRequest, HttpResponse> pool() {
        return pool;
    }

    /**
     * Whether a request that failed with {@code failure} may be sent again to another member: its
     * body is held in memory, and it certainly never reached a server, or it is idempotent ({@code
     * idempotent} retries on) and its connection closed before the response head.
     */
    static boolean retryable(HttpRequest request, Throwable failure, boolean idempotent) {
        if (!request.body().repeatable()) {
            return false; // a streamed body may be partly consumed; it cannot be sent again
        }
        Throwable cause = Futures.unwrap(failure);
        if (cause instanceof UnprocessedException) {
            return true;
        }
        return idempotent && request.method().idempotent() && cause instanceof ConnectionClosedException;
    }

    /** One call: its attempts on members, its retries, and the caller's future. */
    private final class Exchange {
        final HttpRequest request;
        final CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        private final Object lock = new Object();
        // Guarded by lock: the members tried, the attempts made, and what the caller may cancel.
        private final Set<Object> tried = new HashSet<>();
        private int retries;
        private @Nullable CompletableFuture<?> current;
        private final long start = clock.nanoTime();

        Exchange(HttpRequest request) {
            this.request = request;
            result.whenComplete((response, failure) -> {
                if (result.isCancelled()) {
                    CompletableFuture<?> inFlight;
                    synchronized (lock) {
                        inFlight = current;
                    }
                    if (inFlight != null) {
                        inFlight.cancel(false);
                    }
                }
            });
        }

        void route(Set<Object> avoid) {
            CompletableFuture<Routed<HttpResponse>> admitted = pool.route(request, avoid);
            if (!track(admitted)) {
                return;
            }
            admitted.whenComplete((routed, failure) -> {
                if (failure != null) {
                    // No member within the fail-fast wait, the channel closed, or the caller cancelled.
                    failed(Futures.unwrap(failure));
                } else {
                    attempted(routed.endpoint(), routed.response());
                }
            });
        }

        /** A member ({@code member}, null if unknown) took the request; {@code response} is its answer. */
        void attempted(@Nullable Object member, CompletableFuture<HttpResponse> response) {
            if (!track(response)) {
                return;
            }
            response.whenComplete((answer, failure) -> {
                if (failure == null) {
                    HttpResponse delivered = measured(answer);
                    if (!result.complete(delivered)) {
                        Futures.discard(delivered); // the caller cancelled as it arrived
                    }
                    return;
                }
                Set<Object> avoid = null;
                synchronized (lock) {
                    if (!result.isDone() && retries < maxRetries && retryable(request, failure, retryIdempotent)) {
                        if (member != null) {
                            tried.add(member);
                        }
                        avoid = Set.copyOf(tried);
                    }
                }
                if (avoid != null && budget.tryWithdraw()) {
                    synchronized (lock) {
                        retries++;
                    }
                    route(avoid);
                } else {
                    failed(Futures.unwrap(failure));
                }
            });
        }

        private void failed(Throwable failure) {
            // Recorded before the caller hears, so a scrape after the failure sees it.
            if (metrics != null && !result.isDone()) {
                metrics.observe(name, request.method().name(), RequestMetrics.ERROR, clock.nanoTime() - start);
            }
            result.completeExceptionally(failure);
        }

        /** With metrics on, the response whose body's end records the call's time and status. */
        private HttpResponse measured(HttpResponse response) {
            RequestMetrics on = metrics;
            if (on == null) {
                return response;
            }
            String method = request.method().name();
            String status = Integer.toString(response.status());
            if (response.body().contentLength() == 0) {
                on.observe(name, method, status, clock.nanoTime() - start);
                return response;
            }
            AtomicBoolean ended = new AtomicBoolean();
            return response.toBuilder()
                    .body(Observed.counting(response.body(), new AtomicLong(), (bytes, failure) -> {
                        if (ended.compareAndSet(false, true)) {
                            on.observe(name, method, status, clock.nanoTime() - start);
                        }
                    }))
                    .build();
        }

        /** Makes {@code step} what cancelling the call cancels; false (and cancels it) if already cancelled. */
        private boolean track(CompletableFuture<?> step) {
            synchronized (lock) {
                current = step;
            }
            if (result.isCancelled()) {
                step.cancel(false);
                return false;
            }
            return true;
        }
    }

    /**
     * Settings of a {@link WarmHttpChannel}; each may be set once. The pool's own settings (member
     * counts, backoff, hysteresis, fail-fast wait, registry...) are set through {@link #pool}.
     */
    public static final class Builder {
        private final String name;
        private final AddressSource<InetSocketAddress> source;
        private final Set<String> set = new HashSet<>();
        private @Nullable Consumer<? super WarmPool.Builder<InetSocketAddress, ?, ?>> poolSettings;
        private Protocol protocol = Protocol.H2C;
        private @Nullable Integer connectionsPerMember;
        private String healthPath = "/ready";
        private int expectedStatus = 200;
        private boolean healthChecking = true;
        private Duration healthInterval = Duration.ofSeconds(9);
        private Duration healthTimeout = Duration.ofMillis(7500);
        private @Nullable String authority;
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private boolean retryIdempotent = true;
        private @Nullable RetryBudget budget;
        private @Nullable PrometheusRegistry registry;
        private @Nullable Consumer<? super HttpClient.Builder> clientSettings;
        private @Nullable EventLoopGroup group;
        private @Nullable Transport transport;
        private int ioThreads = 1;
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
         * warnings, hysteresis, draining, maximum connection age, fail-fast wait, growth, registry,
         * random, log (see {@link WarmPool.Builder}). Health check times and the clock are set here.
         */
        public Builder pool(Consumer<? super WarmPool.Builder<InetSocketAddress, ?, ?>> settings) {
            once("pool");
            this.poolSettings = Checks.notNull(settings, "settings");
            return this;
        }

        /**
         * What a member speaks: {@link Protocol#H2C} (the default: one HTTP/2 connection by prior
         * knowledge, requests multiplexed on it) or {@link Protocol#HTTP_1_1} (a keep-alive pool).
         */
        public Builder protocol(Protocol value) {
            once("protocol");
            this.protocol = Checks.notNull(value, "protocol");
            return this;
        }

        /**
         * The most connections one member opens to its address: 1 for h2c (another opens only when
         * the server's stream limit is reached) and 8 for HTTP/1.1 unless set.
         */
        public Builder connectionsPerMember(int connections) {
            once("connectionsPerMember");
            this.connectionsPerMember = Checks.positive(connections, "connectionsPerMember");
            return this;
        }

        /**
         * The health request: {@code GET path} (from {@code /}), healthy when answered with {@code
         * expectedStatus}; {@code /ready} and 200 unless set.
         */
        public Builder healthCheck(String path, int expectedStatus) {
            once("healthCheck");
            Checks.notNull(path, "path");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("health check path must start with '/', was '" + path + "'");
            }
            if (expectedStatus < 100 || expectedStatus > 599) {
                throw new IllegalArgumentException("expected status must be 100 to 599, was " + expectedStatus);
            }
            this.healthPath = path;
            this.expectedStatus = expectedStatus;
            return this;
        }

        /** Time from one probe's result to the next (9 s) and a probe's longest run (7.5 s). */
        public Builder healthChecks(Duration interval, Duration timeout) {
            once("healthChecks");
            this.healthInterval = Checks.positive(interval, "interval");
            this.healthTimeout = Checks.positive(timeout, "timeout");
            return this;
        }

        /**
         * Whether the health request's status is checked (true); when false, any answer is healthy,
         * so only members that cannot connect or answer are dropped.
         */
        public Builder healthChecking(boolean enabled) {
            once("healthChecking");
            this.healthChecking = enabled;
            return this;
        }

        /**
         * The {@code Host} header (h2c {@code :authority}) of requests that set none, and of health
         * requests; by default each member's {@code address:port}.
         */
        public Builder authority(String value) {
            once("authority");
            Checks.notNull(value, "authority");
            if (value.isBlank()) {
                throw new IllegalArgumentException("authority must not be blank");
            }
            this.authority = value;
            return this;
        }

        /**
         * Retries on another member after a first attempt, for requests that may be retried (1; 0
         * turns retries off).
         */
        public Builder maxRetries(int retries) {
            once("maxRetries");
            this.maxRetries = (int) Checks.inRange(retries, 0, 10, "maxRetries");
            return this;
        }

        /**
         * Whether idempotent requests are also retried when their connection closed before the
         * response head arrived (true). Requests that never reached a server are retried either way.
         */
        public Builder retryIdempotent(boolean enabled) {
            once("retryIdempotent");
            this.retryIdempotent = enabled;
            return this;
        }

        /** The budget retries draw from ({@link RetryBudget#of} on the channel's clock); share one across clients. */
        public Builder retryBudget(RetryBudget value) {
            once("retryBudget");
            this.budget = Checks.notNull(value, "budget");
            return this;
        }

        /**
         * Records {@code http_client_request_duration_seconds{channel, method, status}} on {@code
         * registry} (none by default): each call once (retries are not extra calls), timed to the end
         * of its response body; {@code status} is the code, or {@code error} for a failed call.
         */
        public Builder metrics(PrometheusRegistry value) {
            once("metrics");
            this.registry = Checks.notNull(value, "registry");
            return this;
        }

        /**
         * Further settings of each member's {@link HttpClient.Builder}: timeouts, {@code maxPending}.
         * The protocol, connection count, clock and event loops are the channel's and may not be set
         * again here.
         */
        public Builder client(Consumer<? super HttpClient.Builder> settings) {
            once("client");
            this.clientSettings = Checks.notNull(settings, "settings");
            return this;
        }

        /**
         * Shared event loops (and their transport) for every member: the channel never shuts them
         * down. Unless set, the channel creates {@link #ioThreads} loops of {@link Transport#select()}
         * and stops them when it is closed and its last member is.
         */
        public Builder eventLoops(EventLoopGroup value, Transport transportOfGroup) {
            once("eventLoops");
            if (set.contains("ioThreads")) {
                throw new IllegalStateException("ioThreads applies only to event loops the channel creates");
            }
            this.group = Checks.notNull(value, "eventLoops");
            this.transport = Checks.notNull(transportOfGroup, "transport");
            return this;
        }

        /** How many event loops the channel creates when none are shared: 1 unless set. */
        public Builder ioThreads(int threads) {
            once("ioThreads");
            if (group != null) {
                throw new IllegalStateException("ioThreads applies only to event loops the channel creates");
            }
            this.ioThreads = Checks.positive(threads, "ioThreads");
            return this;
        }

        /** The clock of the pool, its members' timers and the retry budget (the system clock). */
        public Builder clock(Clock value) {
            once("clock");
            this.clock = Checks.notNull(value, "clock");
            return this;
        }

        /**
         * Builds the channel, which starts resolving, connecting and health-checking at once.
         *
         * @throws IllegalArgumentException if a setting breaks a rule (named in the message)
         * @throws IllegalStateException if the pool's settings set health checks or the clock
         */
        public WarmHttpChannel build() {
            return new WarmHttpChannel(this);
        }
    }
}
