package dev.belfry.proxy;

import dev.belfry.health.HealthState;
import dev.belfry.health.HealthStatus;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.admin.AdminServer;
import dev.belfry.proxy.admin.BackendState;
import dev.belfry.proxy.admin.BackendStatus;
import dev.belfry.proxy.admin.ClusterStatus;
import dev.belfry.proxy.admin.ListenerStatus;
import dev.belfry.proxy.admin.ProxyMetrics;
import dev.belfry.proxy.admin.ProxyStatus;
import dev.belfry.proxy.admin.RecentError;
import dev.belfry.proxy.admin.ReloadResult;
import dev.belfry.proxy.admin.Traffic;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.proxy.config.ClusterConfig;
import dev.belfry.proxy.config.ConfigException;
import dev.belfry.proxy.config.ConfigLoader;
import dev.belfry.proxy.config.ConfigProblem;
import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyConfig;
import dev.belfry.proxy.l4.BackendStats;
import dev.belfry.proxy.l4.L4Proxy;
import dev.belfry.proxy.l4.ListenerStats;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleConsumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running proxy: the L4 engine, the admin server and its metrics, reload and drain.
 *
 * <pre>
 *   config file ──load──▶ ProxyConfig ──▶ L4Proxy (listeners → clusters → backends)
 *        ▲                                   │ stats
 *   SIGHUP / POST /reload                    ▼
 *        └──────────────── ProxyServer (ProxyStatus) ──▶ AdminServer: /live /ready /health /metrics /
 * </pre>
 *
 * <p>Reload reads and validates the whole file first; a bad file leaves the running configuration
 * in place, is logged, and shows on {@code /health}. Thread-safe.
 */
public final class ProxyServer implements ProxyStatus, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
    private static final int RECENT_ERRORS = 50;

    private final @Nullable Path configPath;
    private final Deque<RecentError> recentErrors = new ArrayDeque<>();
    private final Map<BackendStats, DoubleConsumer> connectRecorders = new ConcurrentHashMap<>();
    private volatile ProxyConfig config;
    private volatile int descriptorsPerConnection = 2;
    private volatile boolean draining;
    private volatile @Nullable ReloadResult lastReload;
    private @Nullable EventLoopGroup group;
    private volatile @Nullable L4Proxy engine;
    private volatile @Nullable ProxyMetrics metrics;
    private volatile @Nullable AdminServer admin;

    private ProxyServer(@Nullable Path configPath, ProxyConfig config) {
        this.configPath = configPath;
        this.config = config;
    }

    /** A proxy for {@code config}, reloadable from {@code configPath} if that is not null. */
    public static ProxyServer of(@Nullable Path configPath, ProxyConfig config) {
        return new ProxyServer(configPath, config);
    }

    /**
     * The file descriptors one proxied connection holds in this process (2, client and backend; 3
     * when the backends run in this process too, as in the demo), for the listeners' descriptor
     * budget. Set before {@link #start()}.
     */
    public void descriptorsPerConnection(int descriptors) {
        this.descriptorsPerConnection = dev.belfry.Checks.positive(descriptors, "descriptors");
    }

    /**
     * Binds every listener and the admin server. On failure everything already bound is closed and
     * the exception names what could not bind.
     */
    public synchronized void start() {
        Logging.apply(config.log());
        Transport transport = Transport.selectForRelay();
        EventLoopGroup loops = transport.newEventLoopGroup(config.ioThreads(), "belfry-io");
        group = loops;
        try {
            ProxyMetrics created = ProxyMetrics.create(this);
            metrics = created;
            L4Proxy proxy = L4Proxy.builder(config)
                    .eventLoopGroup(loops, transport)
                    .descriptorsPerConnection(descriptorsPerConnection)
                    .retryListeners(created::retryListener)
                    .connectListener(new L4Proxy.ConnectListener() {
                        @Override
                        public void connected(BackendStats backend, long nanos) {
                            recordConnect(backend, nanos);
                        }

                        @Override
                        public void failed(BackendStats backend, Throwable cause) {
                            recordError(
                                    "cluster " + backend.cluster() + ", backend " + Addresses.format(backend.address()),
                                    "connect failed: " + cause.getMessage());
                        }
                    })
                    .build();
            proxy.start();
            engine = proxy;
            admin = AdminServer.builder(this, created.registry())
                    .listen(config.admin().listen())
                    .start();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        LOG.info(
                "belfry started: {} listener(s), {} cluster(s), admin on {}, {} I/O thread(s) on {}",
                config.listeners().size(),
                config.clusters().size(),
                admin == null ? "-" : Addresses.format(admin.address()),
                config.ioThreads(),
                transport.setting());
    }

    private void recordConnect(BackendStats backend, long nanos) {
        ProxyMetrics current = metrics;
        if (current != null) {
            connectRecorders
                    .computeIfAbsent(backend, b -> current.connectLatency(b.cluster(), Addresses.format(b.address())))
                    .accept(nanos / 1e9);
        }
    }

    /** Where listener {@code name} listens (after binding: a configured port 0 becomes a port). */
    public synchronized @Nullable InetSocketAddress address(String name) {
        return engine == null ? null : engine.address(name);
    }

    /** The proxy's I/O threads, while it runs (for tests). */
    @Nullable
    EventLoopGroup ioThreads() {
        return group;
    }

    /** Where the admin server listens. */
    public synchronized @Nullable InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
    }

    /** The configuration running now. */
    public ProxyConfig config() {
        return config;
    }

    /**
     * Drains: readiness goes false, listeners stop accepting, and open connections get up to the
     * longest cluster {@code drain_timeout} to finish. Returns whether all finished in time.
     */
    public boolean drain() {
        L4Proxy proxy;
        synchronized (this) {
            draining = true;
            proxy = engine;
        }
        if (proxy == null) {
            return true;
        }
        Duration timeout = Duration.ZERO;
        for (ClusterConfig cluster : config.clusters()) {
            if (cluster.drainTimeout().compareTo(timeout) > 0) {
                timeout = cluster.drainTimeout();
            }
        }
        LOG.info(
                "draining: stopped accepting; {} connection(s) open, waiting up to {}",
                proxy.connectionsActive(),
                timeout);
        boolean finished = proxy.drain(timeout).join();
        if (finished) {
            LOG.info("drained: every connection finished");
        } else {
            LOG.warn(
                    "drain timeout ({}) passed with {} connection(s) open; closing them",
                    timeout,
                    proxy.connectionsActive());
        }
        return finished;
    }

    @Override
    public synchronized void close() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
        if (engine != null) {
            engine.close();
            engine = null;
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            group = null;
        }
    }

    // --- ProxyStatus, read by the admin server ---

    @Override
    public boolean configLoaded() {
        return engine != null;
    }

    @Override
    public boolean draining() {
        return draining;
    }

    @Override
    public List<ListenerStatus> listeners() {
        L4Proxy proxy = engine;
        if (proxy == null) {
            return List.of();
        }
        List<ListenerStatus> result = new ArrayList<>();
        ProxyConfig running = config;
        for (ListenerStats stats : proxy.listenerStats().values()) {
            result.add(new ListenerStatus(
                    stats.name(),
                    Addresses.format(stats.address()),
                    clusterOf(running, stats.name()),
                    stats.connectionsActive(),
                    stats.connectionsTotal(),
                    stats.connectionsRejected()));
        }
        return result;
    }

    @Override
    public CompletionStage<List<String>> unresponsiveIoThreads(Duration within) {
        EventLoopGroup loops = group;
        if (loops == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<CompletableFuture<Boolean>> answers = new ArrayList<>();
        for (EventExecutor loop : loops) {
            CompletableFuture<Boolean> answered = new CompletableFuture<>();
            try {
                loop.execute(() -> answered.complete(true));
            } catch (RejectedExecutionException e) {
                answered.complete(false); // shutting down
            }
            answers.add(answered.completeOnTimeout(false, within.toNanos(), TimeUnit.NANOSECONDS));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
                .thenApply(done -> {
                    List<String> stuck = new ArrayList<>();
                    for (int i = 0; i < answers.size(); i++) {
                        if (!answers.get(i).join()) {
                            stuck.add("I/O thread " + (i + 1) + " of " + answers.size());
                        }
                    }
                    return stuck;
                });
    }

    @Override
    public List<ClusterStatus> clusters() {
        L4Proxy proxy = engine;
        if (proxy == null) {
            return List.of();
        }
        ProxyConfig running = config;
        List<ClusterStatus> result = new ArrayList<>();
        for (Map.Entry<String, List<BackendStats>> cluster :
                proxy.backendStats().entrySet()) {
            // Bytes are counted per backend; they are shown under the listener that uses the
            // cluster (or "*" when several listeners share it).
            String listener = listenerOf(running, cluster.getKey());
            List<BackendStatus> backends = new ArrayList<>();
            for (BackendStats backend : cluster.getValue()) {
                HealthState health = backend.health();
                // The health monitor, where there is one, sees checks and connects; otherwise the
                // last connect failure is all there is.
                Throwable lastError = health != null && health.lastError() != null
                        ? health.lastError()
                        : backend.lastConnectFailure();
                backends.add(new BackendStatus(
                        Addresses.format(backend.address()),
                        state(backend.status()),
                        backend.connectionsActive(),
                        backend.connectFailures(),
                        lastError == null ? null : String.valueOf(lastError.getMessage()),
                        List.of(new Traffic(listener, backend.bytesToBackend(), backend.bytesFromBackend()))));
            }
            result.add(new ClusterStatus(cluster.getKey(), backends));
        }
        return result;
    }

    @Override
    public List<RecentError> recentErrors() {
        synchronized (recentErrors) {
            return List.copyOf(recentErrors);
        }
    }

    @Override
    public @Nullable ReloadResult lastReload() {
        return lastReload;
    }

    /**
     * Reloads the configuration file: validates it whole, then applies it. Listeners that remain
     * keep their sockets, endpoints that remain keep their health and load state, and open
     * connections are never cut. A bad file changes nothing and is reported.
     */
    @Override
    public synchronized ReloadResult reload() {
        ReloadResult result = reloadFrom(configPath);
        lastReload = result;
        return result;
    }

    private ReloadResult reloadFrom(@Nullable Path path) {
        Instant now = Instant.now();
        if (path == null) {
            return rejected(now, List.of("this proxy runs an embedded configuration: there is no file to reload"));
        }
        if (draining || engine == null) {
            return rejected(
                    now, List.of("the proxy is " + (draining ? "draining" : "not running") + "; reload refused"));
        }
        ProxyConfig next;
        try {
            next = ConfigLoader.load(path);
        } catch (ConfigException e) {
            List<String> problems = new ArrayList<>();
            for (ConfigProblem problem : e.problems()) {
                problems.add(problem.toString());
            }
            return rejected(now, problems);
        }
        if (next.ioThreads() != config.ioThreads() || !next.admin().equals(config.admin())) {
            LOG.warn("reload: io_threads and [admin] changes take effect only after a restart");
        }
        try {
            engine.update(next);
        } catch (RuntimeException e) {
            return rejected(now, List.of(path + ": " + e.getMessage()));
        }
        config = next;
        Logging.apply(next.log());
        LOG.info(
                "reloaded {}: {} listener(s), {} cluster(s)",
                path,
                next.listeners().size(),
                next.clusters().size());
        return ReloadResult.applied(now);
    }

    private ReloadResult rejected(Instant now, List<String> problems) {
        LOG.error("reload rejected, the running configuration stays:\n  {}", String.join("\n  ", problems));
        recordError("reload", String.join("; ", problems));
        return ReloadResult.rejected(now, problems);
    }

    private void recordError(String source, String message) {
        synchronized (recentErrors) {
            RecentError newest = recentErrors.peekFirst();
            if (newest != null
                    && newest.source().equals(source)
                    && newest.message().equals(message)) {
                // The same error again (a backend refusing every connect): one entry, the latest time.
                recentErrors.removeFirst();
            }
            recentErrors.addFirst(new RecentError(Instant.now(), source, message));
            while (recentErrors.size() > RECENT_ERRORS) {
                recentErrors.removeLast();
            }
        }
    }

    private static String clusterOf(ProxyConfig config, String listener) {
        for (ListenerConfig candidate : config.listeners()) {
            if (candidate.name().equals(listener)) {
                return candidate.cluster();
            }
        }
        return "";
    }

    private static String listenerOf(ProxyConfig config, String cluster) {
        String found = null;
        for (ListenerConfig listener : config.listeners()) {
            if (listener.cluster().equals(cluster)) {
                if (found != null) {
                    return "*";
                }
                found = listener.name();
            }
        }
        return found == null ? "" : found;
    }

    private static BackendState state(HealthStatus status) {
        return switch (status) {
            case HEALTHY -> BackendState.HEALTHY;
            case UNHEALTHY -> BackendState.UNHEALTHY;
            case EJECTED -> BackendState.EJECTED;
            case PROBING -> BackendState.PROBING;
        };
    }
}
