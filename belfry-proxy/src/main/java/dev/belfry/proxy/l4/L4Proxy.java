package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import dev.belfry.netty.accept.AcceptErrors;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import dev.belfry.retry.RetryListener;
import dev.belfry.time.Clock;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.DirectSocket;
import io.netty.channel.epoll.RelayEpollServerSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The L4 (TCP) proxy engine: binds a {@link ProxyConfig}'s listeners and relays each accepted
 * connection to a backend of the listener's cluster.
 *
 * <pre>{@code
 * L4Proxy proxy = L4Proxy.builder(config).build();   // or .eventLoopGroup(group, transport)
 * proxy.start();                                     // binds every listener, or none
 * ...
 * proxy.update(newConfig);                           // reload: keeps sockets and open connections
 * proxy.drain(Duration.ofSeconds(30)).join();        // stop accepting, let connections finish
 * proxy.close();
 * }</pre>
 *
 * <p>Each cluster is built from the core (see {@code Cluster}): a balancer over health-monitored
 * backend services, each of which opens a connection on the client's event loop and holds a
 * connection permit while it is open, under a connect retry that tries another backend. The relay
 * itself runs on epoll without Netty channels (see {@code DirectRelay}; {@value #RELAY_PROPERTY}
 * chooses), and as a Netty pipeline on other transports and for PROXY headers in (see {@code
 * Relay}): a side read only while the other takes what it is given, half-close passed on, idle
 * timeout, PROXY protocol in and out.
 *
 * <p>Control methods ({@link #start}, {@link #update}, {@link #stopAccepting}, {@link #close}) may
 * block briefly on socket binds and must not be called from an event loop; they are serialised.
 * Counters are readable from any thread.
 */
public final class L4Proxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(L4Proxy.class);

    /**
     * The system property that chooses how the epoll transport relays: {@code direct} (the
     * default: {@link DirectRelay}, no channels) or {@code channels} ({@link Relay}, as the other
     * transports always do).
     */
    public static final String RELAY_PROPERTY = "belfry.relay";

    /** Per-channel write buffer bounds: above the high mark a channel is unwritable and its peer is not read. */
    static final WriteBufferWaterMark WATER_MARK = BackendConnector.WATER_MARK;

    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final Transport transport;
    private final Clock clock;
    // Clusters replaced by a reload, kept open until the connects they started have finished.
    private final List<Cluster> retiring = new ArrayList<>();
    private final ClusterSettings settings;
    private final Map<String, Listener> listeners = new LinkedHashMap<>();
    private final Set<RelayBase> relays = ConcurrentHashMap.newKeySet();
    private final RelayEngine relayEngine = new Relays();
    private final DescriptorBudget descriptors;
    // Whether epoll listeners relay without channels (see RELAY_PROPERTY).
    private final boolean direct;
    private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>();
    private volatile Map<String, Cluster> clusters = Map.of();
    private volatile boolean accepting = true;
    private ProxyConfig config;
    private boolean started;
    private boolean closed;

    private L4Proxy(Builder builder) {
        this.config = builder.config;
        this.clock = builder.clock;
        if (builder.group != null) {
            this.group = builder.group;
            this.transport = Checks.notNull(builder.transport, "transport");
            this.ownsGroup = false;
        } else {
            this.transport = Transport.selectForRelay();
            this.group = transport.newEventLoopGroup(config.ioThreads(), "belfry-io");
            this.ownsGroup = true;
        }
        this.settings = new ClusterSettings(transport, clock, 0, builder.connectListener, builder.retryListeners);
        this.direct = transport == Transport.EPOLL && directRelay(System.getProperty(RELAY_PROPERTY));
        this.descriptors = builder.descriptorLimit > 0
                ? DescriptorBudget.of(builder.descriptorLimit, 0, builder.descriptorsPerConnection, relays::size)
                : DescriptorBudget.ofProcess(builder.descriptorsPerConnection, relays::size);
        if (descriptors.limit() > 0) {
            LOG.info(
                    "file descriptor limit {}: at most {} proxied connections at once",
                    descriptors.limit(),
                    descriptors.maxConnections());
        }
    }

    // The rule of RELAY_PROPERTY: unset, blank, "direct" or "channels".
    static boolean directRelay(@Nullable String value) {
        if (value == null || value.isBlank() || value.strip().equalsIgnoreCase("direct")) {
            return true;
        }
        if (value.strip().equalsIgnoreCase("channels")) {
            return false;
        }
        throw new IllegalArgumentException(
                "-D" + RELAY_PROPERTY + "=" + value + ": must be direct (the default) or channels");
    }

    /** A builder of an engine for {@code config}. */
    public static Builder builder(ProxyConfig config) {
        return new Builder(config);
    }

    /**
     * Builds the clusters and binds every listener. If a listener cannot bind, the ones already
     * bound are closed and this fails naming the listener and its address; nothing is left running.
     *
     * @throws IllegalStateException if a listener cannot bind, or the engine was started or closed
     */
    public synchronized void start() {
        if (started || closed) {
            throw new IllegalStateException(closed ? "the proxy is closed" : "the proxy was already started");
        }
        started = true;
        Map<String, Cluster> built = new LinkedHashMap<>();
        for (ClusterConfig cluster : config.clusters()) {
            built.put(cluster.name(), new Cluster(cluster, settings, group, null));
        }
        clusters = Map.copyOf(built);
        List<Listener> bound = new ArrayList<>();
        try {
            for (ListenerConfig listener : config.listeners()) {
                bound.add(bind(listener, new ListenerStats(listener.name(), listener.listen())));
            }
        } catch (RuntimeException e) {
            bound.forEach(Listener::unbind);
            built.values().forEach(Cluster::close);
            clusters = Map.of();
            throw e;
        }
        bound.forEach(listener -> listeners.put(listener.config().name(), listener));
        for (Listener listener : bound) {
            LOG.info(
                    "listener {} on {} -> cluster {}",
                    listener.config().name(),
                    Addresses.format(listener.stats().address()),
                    listener.config().cluster());
        }
    }

    private Listener bind(ListenerConfig config, ListenerStats stats) {
        Listener listener = new Listener(config, stats);
        ServerBootstrap bootstrap = new ServerBootstrap().group(group);
        // Sockets of the listen address's own family: AF_INET for an IPv4 listener, so accepted
        // connections carry plain IPv4 addresses instead of IPv4-mapped IPv6 ones.
        SocketProtocolFamily family = NioRelayChannels.family(config.listen());
        switch (transport) {
            case NIO -> bootstrap.channelFactory(() -> new NioRelayChannels.RelayServerSocket(family));
            case EPOLL -> {
                RelayEpollServerSocketChannel.Acceptor acceptor = direct ? directAcceptor(listener) : null;
                bootstrap.channelFactory(() -> new RelayEpollServerSocketChannel(family, acceptor));
            }
            default -> bootstrap.channel(transport.serverChannelType());
        }
        ChannelFuture bind = bootstrap
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new AcceptErrors("listener " + config.name(), clock))
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        Relay.accept(relayEngine, listener, channel);
                    }
                })
                .bind(config.listen())
                .awaitUninterruptibly();
        if (!bind.isSuccess()) {
            Throwable cause = bind.cause();
            throw new IllegalStateException(
                    "listener " + config.name() + " cannot listen on " + Addresses.format(config.listen()) + ": "
                            + (cause == null ? "cancelled" : cause.getMessage()),
                    cause);
        }
        listener.bound(bind.channel());
        descriptors.listening(bind.channel());
        bind.channel().closeFuture().addListener(closed -> descriptors.closed(bind.channel()));
        return listener;
    }

    /**
     * Relays a listener's connections without channels ({@link DirectRelay}) unless it expects a
     * PROXY protocol header, which the channel relay reads. Checked per accepted connection, since
     * a reload may change it.
     */
    private RelayEpollServerSocketChannel.Acceptor directAcceptor(Listener listener) {
        return new RelayEpollServerSocketChannel.Acceptor() {
            @Override
            public boolean direct() {
                return listener.config().acceptProxyProtocol() == ProxyProtocol.NONE;
            }

            @Override
            public void accepted(DirectSocket socket) {
                DirectRelay.accept(relayEngine, listener, socket, group.next());
            }
        };
    }

    /**
     * Applies a new configuration without cutting open connections: listeners that remain (by name,
     * at the same address) keep their sockets and take the new settings; new ones are bound,
     * removed ones unbound; clusters whose static backends alone changed are updated in place
     * (remaining backends keep health and load), other changed clusters are rebuilt, inheriting
     * their backends' counters; all are swapped at once. Connections already open stay on the
     * backends they have.
     *
     * <p>If a new listener cannot bind, nothing changes and this fails naming it.
     *
     * @throws IllegalStateException if a new listener cannot bind, or the engine is not running
     */
    public synchronized void update(ProxyConfig next) {
        Checks.notNull(next, "config");
        if (!started || closed) {
            throw new IllegalStateException("the proxy is not running");
        }
        // 1. Bind what is new first: if that fails, nothing has changed yet.
        Map<String, Listener> fresh = new LinkedHashMap<>();
        try {
            for (ListenerConfig listener : next.listeners()) {
                Listener current = listeners.get(listener.name());
                if (current == null || !sameAddress(current, listener.listen())) {
                    ListenerStats stats =
                            current != null ? current.stats() : new ListenerStats(listener.name(), listener.listen());
                    fresh.put(listener.name(), bind(listener, stats));
                }
            }
        } catch (RuntimeException e) {
            fresh.values().forEach(Listener::unbind);
            throw e;
        }
        // 2. Swap the clusters as one map.
        Map<String, Cluster> old = clusters;
        Map<String, Cluster> swapped = new HashMap<>();
        List<Cluster> retired = new ArrayList<>();
        for (ClusterConfig cluster : next.clusters()) {
            Cluster current = old.get(cluster.name());
            if (current == null) {
                swapped.put(cluster.name(), new Cluster(cluster, settings, group, null));
            } else if (current.config().equals(cluster)) {
                swapped.put(cluster.name(), current);
            } else if (current.backendsOnlyChange(cluster)) {
                swapped.put(cluster.name(), current.updateBackends(cluster));
            } else {
                swapped.put(cluster.name(), new Cluster(cluster, settings, group, current.states()));
                retired.add(current);
            }
        }
        old.forEach((name, cluster) -> {
            if (!swapped.containsKey(name)) {
                retired.add(cluster);
            }
        });
        clusters = Map.copyOf(swapped);
        retire(retired);
        // 3. Listeners: new settings for those that stay, new ones in, removed ones out.
        Map<String, Listener> kept = new LinkedHashMap<>();
        for (ListenerConfig listener : next.listeners()) {
            Listener bound = fresh.get(listener.name());
            if (bound == null) {
                bound = listeners.get(listener.name());
                bound.config(listener);
            }
            kept.put(listener.name(), bound);
        }
        listeners.forEach((name, listener) -> {
            if (kept.get(name) != listener) {
                listener.unbind();
            }
        });
        listeners.clear();
        listeners.putAll(kept);
        config = next;
        LOG.info("configuration updated: {} listeners, {} clusters", kept.size(), swapped.size());
    }

    // The same socket if the address is what was configured or what was bound (a port 0 became a port).
    private static boolean sameAddress(Listener current, InetSocketAddress wanted) {
        return current.server() != null
                && current.server().isActive()
                && (current.config().listen().equals(wanted)
                        || current.stats().address().equals(wanted));
    }

    /**
     * Closes clusters a reload replaced once every connect they may still be making has ended: a
     * client whose connect started on the old cluster (waiting for a backend, connecting, or
     * retrying another backend) must not fail because of the reload. Established relays do not
     * depend on the cluster.
     */
    private void retire(List<Cluster> retired) {
        if (retired.isEmpty()) {
            return;
        }
        Duration grace = Duration.ofSeconds(1);
        for (Cluster cluster : retired) {
            ClusterConfig settings = cluster.config();
            Duration longest = settings.connectTimeout()
                    .multipliedBy(2L * (settings.connectRetries() + 1))
                    .plusSeconds(1);
            if (longest.compareTo(grace) > 0) {
                grace = longest;
            }
        }
        synchronized (retiring) {
            retiring.addAll(retired);
        }
        clock.schedule(grace, () -> {
            synchronized (retiring) {
                retired.forEach(retiring::remove);
            }
            retired.forEach(Cluster::close);
        });
    }

    /** Stops accepting: every listener's socket is closed; open connections continue. Idempotent. */
    public synchronized void stopAccepting() {
        accepting = false;
        listeners.values().forEach(Listener::unbind);
    }

    /** Completes when no client connection is open (at once if none is). */
    public CompletableFuture<Void> whenIdle() {
        CompletableFuture<Void> idle = new CompletableFuture<>();
        synchronized (idleWaiters) {
            if (relays.isEmpty()) {
                idle.complete(null);
            } else {
                idleWaiters.add(idle);
            }
        }
        return idle;
    }

    /**
     * Stops accepting and completes with {@code true} when every open connection has finished, or
     * with {@code false} once {@code timeout} has passed with some still open (they stay open:
     * {@link #close} cuts them).
     */
    public CompletableFuture<Boolean> drain(Duration timeout) {
        Checks.nonNegative(timeout, "timeout");
        stopAccepting();
        CompletableFuture<Boolean> drained = new CompletableFuture<>();
        whenIdle().thenRun(() -> drained.complete(true));
        Clock.Scheduled timer = clock.schedule(timeout, () -> drained.complete(false));
        drained.whenComplete((done, failure) -> timer.cancel());
        return drained;
    }

    /**
     * Stops accepting, closes every open connection and every cluster, and shuts down the event
     * loops if the engine created them. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopAccepting();
        List<io.netty.util.concurrent.Future<?>> closing = new ArrayList<>();
        for (RelayBase relay : relays) {
            io.netty.util.concurrent.Future<?> task = relay.forceClose("proxy closed");
            if (task != null) {
                closing.add(task);
            }
        }
        // The closes run before the event loops shut down, which would otherwise close the
        // channels first and log each connection with the wrong reason.
        long deadline = clock.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (io.netty.util.concurrent.Future<?> task : closing) {
            long left = deadline - clock.nanoTime();
            if (left <= 0 || !task.awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
                LOG.warn(
                        "{} connection(s) still closing after 5 s; the event loops close the rest",
                        closing.stream().filter(f -> !f.isDone()).count());
                break;
            }
        }
        clusters.values().forEach(Cluster::close);
        synchronized (retiring) {
            retiring.forEach(Cluster::close);
            retiring.clear();
        }
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /** The configuration running now. */
    public synchronized ProxyConfig config() {
        return config;
    }

    /** The counters of each listener, by name. */
    public synchronized Map<String, ListenerStats> listenerStats() {
        Map<String, ListenerStats> stats = new LinkedHashMap<>();
        listeners.forEach((name, listener) -> stats.put(name, listener.stats()));
        return stats;
    }

    /** The counters of each cluster's current backends, by cluster name. */
    public Map<String, List<BackendStats>> backendStats() {
        Map<String, List<BackendStats>> stats = new LinkedHashMap<>();
        clusters.forEach((name, cluster) -> stats.put(name, cluster.backends()));
        return stats;
    }

    /** The address listener {@code name} is bound to, or null if there is no such listener. */
    public synchronized @Nullable InetSocketAddress address(String name) {
        Listener listener = listeners.get(name);
        return listener == null ? null : listener.stats().address();
    }

    /** Whether every cluster has a backend that would take a connection now. */
    public boolean ready() {
        Map<String, Cluster> current = clusters;
        return !current.isEmpty() && current.values().stream().allMatch(Cluster::ready);
    }

    /** Client connections open now, over all listeners. */
    public int connectionsActive() {
        return relays.size();
    }

    // ---- what relays see of the engine (RelayEngine, implemented privately) ---------------------

    private final class Relays implements RelayEngine {
        @Override
        public boolean accepting() {
            return accepting;
        }

        @Override
        public boolean withinDescriptorBudget() {
            return descriptors.admit();
        }

        @Override
        public @Nullable Cluster cluster(String name) {
            return clusters.get(name);
        }

        @Override
        public Clock clock() {
            return clock;
        }

        @Override
        public void opened(RelayBase relay) {
            relays.add(relay);
        }

        @Override
        public void closed(RelayBase relay) {
            L4Proxy.this.closed(relay);
        }
    }

    private void closed(RelayBase relay) {
        relays.remove(relay);
        descriptors.released();
        if (relays.isEmpty()) {
            List<CompletableFuture<Void>> waiters;
            synchronized (idleWaiters) {
                if (!relays.isEmpty()) {
                    return;
                }
                waiters = List.copyOf(idleWaiters);
                idleWaiters.clear();
            }
            waiters.forEach(waiter -> waiter.complete(null));
        }
    }

    /** The descriptor budget, for tests. */
    DescriptorBudget descriptorBudget() {
        return descriptors;
    }

    /** The open relays, for tests. */
    Set<RelayBase> relays() {
        return relays;
    }

    @Override
    public String toString() {
        return "L4Proxy[" + listeners.keySet() + ", " + relays.size() + " connections]";
    }

    /**
     * Told of each backend connect's outcome (see {@link BackendListener}); the name the builder and
     * its callers use.
     */
    public interface ConnectListener extends BackendListener {}

    private static final ConnectListener NO_CONNECT_LISTENER = new ConnectListener() {
        @Override
        public void connected(BackendStats backend, long nanos) {}

        @Override
        public void failed(BackendStats backend, Throwable cause) {}
    };

    /** Settings of an {@link L4Proxy}; each may be set once. */
    public static final class Builder {
        private final ProxyConfig config;
        private @Nullable EventLoopGroup group;
        private long descriptorLimit;
        private int descriptorsPerConnection = 2;
        private @Nullable Transport transport;
        private Clock clock = Clock.system();
        private boolean clockSet;
        private ConnectListener connectListener = NO_CONNECT_LISTENER;
        private boolean connectListenerSet;
        private Function<String, RetryListener> retryListeners = cluster -> RetryListener.none();
        private boolean retryListenersSet;

        private Builder(ProxyConfig config) {
            this.config = Checks.notNull(config, "config");
        }

        /**
         * The event loops to run on and their transport (they must match); the caller keeps
         * ownership. Default: a group of {@code io_threads} threads of {@link Transport#selectForRelay()},
         * owned and shut down by the engine.
         */
        public Builder eventLoopGroup(EventLoopGroup group, Transport transport) {
            Checks.notSetTwice(this.group, "eventLoopGroup");
            this.group = Checks.notNull(group, "group");
            this.transport = Checks.notNull(transport, "transport");
            return this;
        }

        /**
         * Budgets connections as if the process's file-descriptor limit were {@code limit} with none
         * open yet, instead of reading the real limit: for tests.
         */
        Builder descriptorLimit(long limit) {
            this.descriptorLimit = limit;
            return this;
        }

        /**
         * The file descriptors one proxied connection holds in this process, for its descriptor
         * budget: 2 (client and backend, the default), 3 when the backends run in the same process.
         */
        public Builder descriptorsPerConnection(int descriptors) {
            this.descriptorsPerConnection = Checks.positive(descriptors, "descriptors");
            return this;
        }

        /** The clock for timers, ejections and connect times; default the system clock. */
        public Builder clock(Clock clock) {
            Checks.notSetTwice(clockSet ? this.clock : null, "clock");
            this.clock = Checks.notNull(clock, "clock");
            clockSet = true;
            return this;
        }

        /** Told of every backend connect's outcome; default none. */
        public Builder connectListener(ConnectListener listener) {
            Checks.notSetTwice(connectListenerSet ? connectListener : null, "connectListener");
            this.connectListener = Checks.notNull(listener, "connectListener");
            connectListenerSet = true;
            return this;
        }

        /**
         * Gives each cluster, by name, the listener its connect retries report to (retries, and
         * retries the budget refused); called again for a cluster rebuilt on reload. Default none.
         */
        public Builder retryListeners(Function<String, RetryListener> perCluster) {
            Checks.notSetTwice(retryListenersSet ? retryListeners : null, "retryListeners");
            this.retryListeners = Checks.notNull(perCluster, "retryListeners");
            retryListenersSet = true;
            return this;
        }

        /** The engine, not yet started. */
        public L4Proxy build() {
            return new L4Proxy(this);
        }
    }
}
