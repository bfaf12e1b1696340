package dev.belfry.http.client;

import dev.belfry.Checks;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.netty.transport.Transport;
import dev.belfry.time.Clock;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Calls one origin ({@code http://host:port}) over HTTP/1.1 with a keep-alive pool, or over h2c
 * (HTTP/2 by prior knowledge) with multiplexed streams: a {@code Service<HttpRequest,
 * HttpResponse>}, so every core layer (timeouts, retries, limits, breakers, balancers) wraps it as
 * it is.
 *
 * <pre>{@code
 * try (HttpClient client = HttpClient.builder("127.0.0.1", 8080).build()) {
 *     HttpResponse response = client.call(HttpRequest.get("/users/7")).join();
 *     String text = response.body().collectUtf8(1 << 20).join();
 * }
 * }</pre>
 *
 * <p>Admission: {@link #call} takes a free connection (HTTP/1.1) or stream (h2c), opens a new
 * connection while fewer than {@code maxConnections} exist, and otherwise queues the call, up to
 * {@code maxPending} waiters; past that it fails with {@link dev.belfry.OverloadedException}.
 * {@link #readiness()} is {@code BUSY} when every connection (or every stream the server allows) is
 * taken and no other connection may be opened; {@link #tryCall} admits only then.
 *
 * <p>The response future completes on the connection's event loop when the response head arrives;
 * the body streams after it and must be consumed or discarded ({@link HttpResponse#close()}). A
 * connection is reused only once its response's last byte was read and the request was written
 * whole. Failures: {@link NotSentException}, or {@link dev.belfry.reconnect.ConnectFailedException}
 * for a failed connect, when the request certainly never reached the server (both {@link
 * dev.belfry.UnprocessedException}s); {@link PhaseElapsedException} when a timer runs out; {@link
 * dev.belfry.http.ConnectionClosedException} when the connection closes mid-exchange. Cancelling the
 * response future before its head arrives abandons the exchange (the HTTP/1.1 connection is closed,
 * the HTTP/2 stream reset).
 *
 * <p>Thread-safe. {@link #close()} closes every connection at once (exchanges in flight fail), fails
 * queued calls with {@link dev.belfry.ServiceClosedException}, and shuts down the event loops if the
 * client created them.
 */
public final class HttpClient implements Service<HttpRequest, HttpResponse> {
    private final Pool pool;

    private HttpClient(Pool pool) {
        this.pool = pool;
    }

    /** A builder of a client of {@code http://host:port}. */
    public static Builder builder(String host, int port) {
        return new Builder(host, port);
    }

    /**
     * A builder of a client of {@code origin}, an {@code http} URI with a host and no path beyond
     * {@code /} (the port defaults to 80).
     *
     * @throws IllegalArgumentException if {@code origin} is not such a URI
     */
    public static Builder builder(URI origin) {
        Checks.notNull(origin, "origin");
        String scheme = origin.getScheme();
        if (scheme == null || !scheme.toLowerCase(Locale.ROOT).equals("http")) {
            throw new IllegalArgumentException(
                    "origin must be an http:// URI (TLS is not supported yet), was " + origin);
        }
        if (origin.getHost() == null) {
            throw new IllegalArgumentException("origin must name a host, was " + origin);
        }
        String path = origin.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || origin.getRawQuery() != null) {
            throw new IllegalArgumentException("origin must have no path or query, was " + origin);
        }
        return new Builder(origin.getHost(), origin.getPort() < 0 ? 80 : origin.getPort());
    }

    @Override
    public CompletableFuture<HttpResponse> call(HttpRequest request) {
        return pool.call(request);
    }

    @Override
    public @Nullable CompletableFuture<HttpResponse> tryCall(HttpRequest request) {
        return pool.tryCall(request);
    }

    @Override
    public Readiness readiness() {
        return pool.readiness();
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return pool.whenReady();
    }

    /** The origin this client calls, such as {@code http://127.0.0.1:8080}. */
    public String origin() {
        return pool.settings().origin();
    }

    /** The protocol this client speaks. */
    public Protocol protocol() {
        return pool.settings().protocol();
    }

    /** Connections open or being opened now. */
    public int connectionCount() {
        return pool.connectionCount();
    }

    /** Connections opened (connects started) since the client was built. */
    public long connectionsOpened() {
        return pool.connectionsOpened();
    }

    /** Calls queued for a connection or stream now. */
    public int pendingCount() {
        return pool.pendingCount();
    }

    /** Closes every connection, fails queued calls, and stops event loops the client owns. Idempotent. */
    @Override
    public void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return "HttpClient[" + origin() + ", " + protocol() + "]";
    }

    /** Configures a client; each setting may be made once. Not thread-safe. */
    public static final class Builder {
        static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
        static final Duration DEFAULT_RESPONSE_HEADERS_TIMEOUT = Duration.ofSeconds(30);
        static final Duration DEFAULT_BODY_IDLE_TIMEOUT = Duration.ofSeconds(30);
        static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
        static final int DEFAULT_MAX_PENDING = 1024;
        static final int DEFAULT_HTTP1_MAX_CONNECTIONS = 64;
        static final int DEFAULT_H2C_MAX_CONNECTIONS = 1;

        private final String host;
        private final int port;
        private @Nullable Protocol protocol;
        private @Nullable Integer maxConnections;
        private @Nullable Integer maxPending;
        private @Nullable Duration connectTimeout;
        private @Nullable Duration responseHeadersTimeout;
        private @Nullable Duration bodyIdleTimeout;
        private @Nullable Duration idleTimeout;
        private @Nullable Clock clock;
        private @Nullable EventLoopGroup group;
        private @Nullable Transport transport;
        private @Nullable Integer ioThreads;

        private Builder(String host, int port) {
            Checks.notNull(host, "host");
            if (host.isEmpty()) {
                throw new IllegalArgumentException("host must not be empty");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1 to 65535, was " + port);
            }
            this.host = host;
            this.port = port;
        }

        /** The protocol: {@link Protocol#HTTP_1_1} unless set. */
        public Builder protocol(Protocol value) {
            Checks.notSetTwice(protocol, "protocol");
            this.protocol = Checks.notNull(value, "protocol");
            return this;
        }

        /**
         * The most connections to the origin, open or being opened: 64 for HTTP/1.1 and 1 for h2c
         * unless set. An h2c client opens another connection only when every stream the server allows
         * on the open ones is taken.
         */
        public Builder maxConnections(int value) {
            Checks.notSetTwice(maxConnections, "maxConnections");
            this.maxConnections = Checks.positive(value, "maxConnections");
            return this;
        }

        /**
         * The most calls waiting for a connection or stream once {@code maxConnections} are open or
         * being opened (calls a connection is being opened for do not count); one more fails at once
         * with {@link dev.belfry.OverloadedException}. 1024 unless set; 0 makes every call fail that
         * finds every connection and stream taken.
         */
        public Builder maxPending(int value) {
            Checks.notSetTwice(maxPending, "maxPending");
            this.maxPending = Checks.nonNegative(value, "maxPending");
            return this;
        }

        /** How long a TCP connect may take: 10 seconds unless set. */
        public Builder connectTimeout(Duration value) {
            Checks.notSetTwice(connectTimeout, "connectTimeout");
            this.connectTimeout = Checks.positive(value, "connectTimeout");
            return this;
        }

        /**
         * How long the response head may take once the request was written whole: 30 seconds unless
         * set.
         */
        public Builder responseHeadersTimeout(Duration value) {
            Checks.notSetTwice(responseHeadersTimeout, "responseHeadersTimeout");
            this.responseHeadersTimeout = Checks.positive(value, "responseHeadersTimeout");
            return this;
        }

        /**
         * How long a body may make no progress while the peer is the one expected to move it (the
         * response body's subscriber has demand, or the request body waits for the socket to drain):
         * 30 seconds unless set. A slow consumer of the response body never trips it.
         */
        public Builder bodyIdleTimeout(Duration value) {
            Checks.notSetTwice(bodyIdleTimeout, "bodyIdleTimeout");
            this.bodyIdleTimeout = Checks.positive(value, "bodyIdleTimeout");
            return this;
        }

        /** How long a connection with no exchange stays open: 60 seconds unless set. */
        public Builder idleTimeout(Duration value) {
            Checks.notSetTwice(idleTimeout, "idleTimeout");
            this.idleTimeout = Checks.positive(value, "idleTimeout");
            return this;
        }

        /** The clock every timer of the client runs on: the system clock unless set. */
        public Builder clock(Clock value) {
            Checks.notSetTwice(clock, "clock");
            this.clock = Checks.notNull(value, "clock");
            return this;
        }

        /**
         * Shared event loops (and the transport they run): the client uses them and never shuts them
         * down. Unless set, the client creates {@link #ioThreads} loops of {@link Transport#select()}
         * and shuts them down on {@link HttpClient#close()}.
         */
        public Builder eventLoops(EventLoopGroup value, Transport transportOfGroup) {
            Checks.notSetTwice(group, "eventLoops");
            if (ioThreads != null) {
                throw new IllegalStateException("ioThreads applies only to event loops the client creates");
            }
            this.group = Checks.notNull(value, "eventLoops");
            this.transport = Checks.notNull(transportOfGroup, "transport");
            return this;
        }

        /** How many event loops the client creates when none are shared: 1 unless set. */
        public Builder ioThreads(int value) {
            Checks.notSetTwice(ioThreads, "ioThreads");
            if (group != null) {
                throw new IllegalStateException("ioThreads applies only to event loops the client creates");
            }
            this.ioThreads = Checks.positive(value, "ioThreads");
            return this;
        }

        /** The client; opens no connection until the first call. */
        public HttpClient build() {
            Protocol p = protocol != null ? protocol : Protocol.HTTP_1_1;
            int defaultMax = p == Protocol.H2C ? DEFAULT_H2C_MAX_CONNECTIONS : DEFAULT_HTTP1_MAX_CONNECTIONS;
            Settings settings = new Settings(
                    host,
                    port,
                    p,
                    maxConnections != null ? maxConnections : defaultMax,
                    maxPending != null ? maxPending : DEFAULT_MAX_PENDING,
                    connectTimeout != null ? connectTimeout : DEFAULT_CONNECT_TIMEOUT,
                    responseHeadersTimeout != null ? responseHeadersTimeout : DEFAULT_RESPONSE_HEADERS_TIMEOUT,
                    bodyIdleTimeout != null ? bodyIdleTimeout : DEFAULT_BODY_IDLE_TIMEOUT,
                    idleTimeout != null ? idleTimeout : DEFAULT_IDLE_TIMEOUT,
                    clock != null ? clock : Clock.system());
            EventLoopGroup loops = group;
            Transport chosen = transport;
            boolean owned = loops == null;
            if (loops == null || chosen == null) {
                chosen = Transport.select();
                loops = chosen.newEventLoopGroup(ioThreads != null ? ioThreads : 1, "belfry-http-client");
            }
            return new HttpClient(new Pool(settings, loops, chosen, owned));
        }
    }
}
