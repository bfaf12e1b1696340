package dev.belfry.examples.users;

import dev.belfry.Services;
import dev.belfry.grpc.server.HealthService;
import dev.belfry.grpc.server.ServerLimits;
import dev.belfry.grpc.server.ServerMetrics;
import dev.belfry.health.registry.Dependency;
import dev.belfry.health.registry.DependencyCheck;
import dev.belfry.health.registry.HealthRegistry;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.accesslog.AccessLogLayer;
import dev.belfry.http.auth.AuthLayer;
import dev.belfry.http.catchpanic.CatchPanicLayer;
import dev.belfry.http.compression.CompressionLayer;
import dev.belfry.http.health.HealthRoutes;
import dev.belfry.http.limit.RequestBodyLimitLayer;
import dev.belfry.http.metrics.HttpMetricsLayer;
import dev.belfry.http.ratelimit.ClientRateLimitLayer;
import dev.belfry.http.requestid.RequestIdLayer;
import dev.belfry.http.router.Router;
import dev.belfry.http.server.HttpServer;
import dev.belfry.http.timeout.RequestTimeoutLayer;
import dev.belfry.time.Clock;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The users service put together: the API over HTTP and gRPC from one {@link UsersApi} (one store,
 * one cache, one circuit breaker), {@code /health}, {@code /ready} and {@code /live} over a health
 * registry that pings the database, and the gRPC health service following the same registry.
 *
 * <pre>{@code
 * try (UsersService users = UsersService.builder(dataSource)
 *         .httpPort(8080)
 *         .grpcPort(9090)
 *         .writeToken(System.getenv("BELFRY_USERS_TOKEN"))
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>HTTP (HTTP/1.1 and h2c), outermost first: the request id; then around every route the access
 * log, metrics ({@code /metrics}), catch-panic, a request timeout, a rate limit per client on {@code
 * /api/} routes (429), compression of responses, a request body limit (413); bearer-token auth
 * around the writes ({@code POST}, {@code DELETE}: 401 without the token). gRPC: {@code
 * UserService} behind belfry-grpc's {@link ServerMetrics} and {@link ServerLimits}, and {@code
 * grpc.health.v1.Health}, {@code SERVING} exactly while {@code /ready} answers 200. The metrics of
 * both go to one {@link PrometheusRegistry} per service ({@link #metrics()}), so several services in
 * one process (replicas in a demo) keep theirs apart.
 */
public final class UsersService implements AutoCloseable {
    public static final String VERSION = "0.1.0";

    /** The default rate limit: requests per second each client may make to {@code /api/}. */
    public static final int DEFAULT_RATE_PER_CLIENT = 1000;

    /** The longest an HTTP request may take before it is answered 503. */
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /** The gRPC calls one service handles at once before it sheds with {@code RESOURCE_EXHAUSTED}. */
    public static final int GRPC_CONCURRENCY = 512;

    private final UsersApi api;
    private final HealthRegistry health;
    private final HttpServer server;
    private final Server grpc;
    private final HealthService grpcHealth;
    private final HealthRegistry.Registration following;
    private final PrometheusRegistry metrics;

    private UsersService(
            UsersApi api,
            HealthRegistry health,
            HttpServer server,
            Server grpc,
            HealthService grpcHealth,
            HealthRegistry.Registration following,
            PrometheusRegistry metrics) {
        this.api = api;
        this.health = health;
        this.server = server;
        this.grpc = grpc;
        this.grpcHealth = grpcHealth;
        this.following = following;
        this.metrics = metrics;
    }

    /** A builder of a service on {@code dataSource}. */
    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /**
     * The client a request is counted against by the rate limit: the address of the connection's
     * peer ({@link HttpServer#REMOTE_ADDRESS}), never a header a client could set; {@code null}, not
     * limited, outside {@code /api/} (health checks and scrapes). Behind a proxy every request
     * shares the proxy's bucket: key on a forwarding header only where that proxy is trusted.
     */
    static @Nullable String client(HttpRequest request) {
        if (!request.path().startsWith("/api/")) {
            return null;
        }
        InetSocketAddress peer = request.attribute(HttpServer.REMOTE_ADDRESS);
        return peer == null ? "unknown" : peer.getAddress().getHostAddress();
    }

    /** The HTTP port. */
    public int port() {
        return server.port();
    }

    /** The gRPC port. */
    public int grpcPort() {
        return grpc.getPort();
    }

    public HealthRegistry health() {
        return health;
    }

    public UsersApi api() {
        return api;
    }

    /** The registry this service's metrics (HTTP and gRPC) are on. */
    public PrometheusRegistry metrics() {
        return metrics;
    }

    /**
     * Stops taking traffic ({@code /ready} turns 503, gRPC health {@code NOT_SERVING}), lets
     * requests and calls in flight finish (up to 5 s for gRPC), and stops.
     */
    @Override
    public void close() {
        health.drain();
        grpcHealth.enterShutdown();
        following.close();
        grpc.shutdown();
        server.close();
        try {
            if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
                grpc.shutdownNow();
            }
        } catch (InterruptedException e) {
            grpc.shutdownNow();
            Thread.currentThread().interrupt();
        }
        health.close();
        api.close();
    }

    /** Settings of a {@link UsersService}. Not thread-safe. */
    public static final class Builder {
        private final DataSource dataSource;
        private String host = "127.0.0.1";
        private int httpPort;
        private int grpcPort;
        private Clock clock = Clock.system();
        private @Nullable String writeToken;
        private long ratePerClient = DEFAULT_RATE_PER_CLIENT;
        private Duration ratePer = Duration.ofSeconds(1);

        private Builder(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        /** The bearer token that {@code POST} and {@code DELETE} need (required). */
        public Builder writeToken(String value) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException("the write token must not be empty");
            }
            this.writeToken = value;
            return this;
        }

        /** Each client's rate on {@code /api/}: {@code requests} per {@code per} ({@link #DEFAULT_RATE_PER_CLIENT} a second). */
        public Builder rateLimit(long requests, Duration per) {
            this.ratePerClient = requests;
            this.ratePer = per;
            return this;
        }

        /** The address both servers bind ({@code 127.0.0.1}). */
        public Builder host(String value) {
            this.host = value;
            return this;
        }

        /** The HTTP port (0, any free one). */
        public Builder httpPort(int value) {
            this.httpPort = port(value);
            return this;
        }

        /** The gRPC port (0, any free one). */
        public Builder grpcPort(int value) {
            this.grpcPort = port(value);
            return this;
        }

        /** The clock of the breaker, timeouts, cache and health checks (the system clock). */
        public Builder clock(Clock value) {
            this.clock = value;
            return this;
        }

        private static int port(int value) {
            if (value < 0 || value > 65_535) {
                throw new IllegalArgumentException("a port is 0 to 65535, was " + value);
            }
            return value;
        }

        /**
         * Migrates the schema and starts both servers.
         *
         * @throws SQLException if the database cannot be reached to migrate
         */
        public UsersService start() throws SQLException {
            if (writeToken == null) {
                throw new IllegalStateException("set the token writes need: writeToken(...)");
            }
            UserStore store = new UserStore(dataSource);
            store.migrate();
            UsersApi api = new UsersApi(store, clock);
            HealthRegistry health = HealthRegistry.builder()
                    .clock(clock)
                    .dependency(Dependency.required("database", ping(store))
                            .withInterval(Duration.ofSeconds(2))
                            .withTimeout(Duration.ofSeconds(1)))
                    .build();
            PrometheusRegistry metrics = new PrometheusRegistry();
            // Router layers wrap every route, the first added outermost; the route template is known
            // inside the router, so the access log and metrics label by it.
            Router.Builder routes = Router.builder()
                    .layer(AccessLogLayer.create())
                    .layer(HttpMetricsLayer.create(metrics))
                    .layer(CatchPanicLayer.create())
                    .layer(RequestTimeoutLayer.of(REQUEST_TIMEOUT))
                    .layer(ClientRateLimitLayer.builder(ratePerClient, ratePer)
                            .key(UsersService::client)
                            .clock(clock)
                            .build())
                    .layer(CompressionLayer.create())
                    .layer(RequestBodyLimitLayer.of(UsersApi.MAX_BODY))
                    .get("/metrics", request -> CompletableFuture.completedFuture(scrape(metrics)));
            api.addTo(routes, AuthLayer.bearer(Map.of(writeToken, "writer")));
            Router router = HealthRoutes.builder(health)
                    .version(VERSION)
                    .build()
                    .addTo(routes)
                    .build();
            HttpServer server = HttpServer.builder(RequestIdLayer.create().wrap(router))
                    .bind(host, httpPort)
                    .start();

            HealthService grpcHealth = new HealthService();
            HealthRegistry.Registration following = grpcHealth.follow(health);
            // The last interceptor runs first: metrics count the calls the limits shed too.
            ServerLimits limits = ServerLimits.builder()
                    .concurrencyLimit(GRPC_CONCURRENCY)
                    .clock(clock)
                    .build();
            Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress(host, grpcPort))
                    // Every handler here only starts work (JDBC runs on virtual threads) and answers
                    // from a callback: none blocks, so they run on the event loop instead of being
                    // handed to grpc-java's default thread pool and back on every call.
                    .directExecutor()
                    .addService(ServerInterceptors.intercept(
                            new UsersGrpcService(api), limits, ServerMetrics.on(metrics, clock)))
                    .addService(grpcHealth.bindableService())
                    .build();
            try {
                grpc.start();
            } catch (IOException e) {
                following.close();
                server.close();
                health.close();
                api.close();
                throw new UncheckedIOException("could not serve gRPC on " + host + ":" + grpcPort, e);
            }
            return new UsersService(api, health, server, grpc, grpcHealth, following, metrics);
        }

        private static HttpResponse scrape(PrometheusRegistry metrics) {
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            try {
                PrometheusTextFormatWriter.create().write(text, metrics.scrape());
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
            }
            return HttpResponse.status(200)
                    .header("content-type", PrometheusTextFormatWriter.CONTENT_TYPE)
                    .body(dev.belfry.http.Body.of(text.toByteArray()))
                    .build();
        }

        /** The ping blocks (JDBC), so it runs on a virtual thread, never on the registry's timer. */
        private static DependencyCheck ping(UserStore store) {
            return DependencyCheck.calling(
                    Services.<Boolean, Boolean>blocking(ignored -> {
                        try {
                            store.ping();
                            return true;
                        } catch (SQLException e) {
                            throw new DatabaseException(e);
                        }
                    }),
                    true);
        }
    }
}
