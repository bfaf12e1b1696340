package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import dev.belfry.http.server.HttpServer;
import dev.belfry.http.server.ServerLimits;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.time.Clock;
import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's admin HTTP server: liveness, readiness, health, Prometheus metrics, a dashboard and
 * reload, for operators and orchestrators (see the {@linkplain dev.belfry.proxy.admin package} for the
 * endpoints). It is belfry-http's {@link HttpServer} serving a {@link dev.belfry.http.router.Router}
 * of the endpoints.
 *
 * <p>It listens on loopback ({@link #DEFAULT_LISTEN}) unless told otherwise, speaks HTTP/1.1 with
 * keep-alive (and h2c, as every belfry-http server does), and holds every connection to small
 * limits: a request line of {@value #MAX_INITIAL_LINE} bytes, {@value #MAX_HEADER_SIZE} bytes of
 * headers, a body of {@value #MAX_CONTENT_LENGTH} bytes, and an idle timeout, which also bounds how
 * long a client may take to send a whole request, however slowly it trickles the bytes. At most
 * {@value #MAX_CONNECTIONS} connections are open at once: a new one past that closes the one that
 * has waited longest for a request, so idle clients cannot lock out a health probe, and is itself
 * closed only if every connection is being answered. It keeps a file descriptor in reserve, so
 * that when the proxy's connections have taken every other one, a probe is still accepted and
 * answered; and it answers each page once in-process before it listens, so that answering one
 * later loads no class (which could need a descriptor). Accept failures are logged at most every ten seconds. It runs on an event-loop group
 * it is given, or on a single NIO thread of its own, apart from the proxy's I/O threads (the
 * proxy's choice: {@code /live} then asks those threads whether they answer).
 *
 * <pre>{@code
 * ProxyMetrics metrics = ProxyMetrics.create(engine);
 * try (AdminServer admin = AdminServer.builder(engine, metrics.registry())
 *         .listen(config.admin().listen())
 *         .eventLoopGroup(group, transport)
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Thread-safety: {@link #address()} and {@link #close()} may be called from any thread except an
 * event loop of the server's group ({@code close} waits for the sockets to close).
 */
public final class AdminServer implements AutoCloseable {
    /** Where the admin server listens unless configured otherwise: {@code 127.0.0.1:9901}. */
    public static final InetSocketAddress DEFAULT_LISTEN = ipv4Loopback(9901);

    /** The largest request body accepted; larger ones get 413. */
    public static final int MAX_CONTENT_LENGTH = 64 * 1024;

    /** The longest request line accepted; longer ones get 414 and a close. */
    public static final int MAX_INITIAL_LINE = 4096;

    /** The most header bytes accepted; more get 431 and a close. */
    public static final int MAX_HEADER_SIZE = 8192;

    /**
     * The most admin connections open at once; past it, the longest-waiting idle one is closed to
     * make room.
     */
    public static final int MAX_CONNECTIONS = 64;

    /**
     * How long a connection may stay idle, or take to send a whole request, before it is closed,
     * unless configured otherwise.
     */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    private final HttpServer server;
    private final Routes routes;
    private final AtomicBoolean closed = new AtomicBoolean();

    // 127.0.0.1 itself, as documented, even where the JVM prefers IPv6 for getLoopbackAddress().
    private static InetSocketAddress ipv4Loopback(int port) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port);
        } catch (UnknownHostException e) {
            throw new AssertionError("a four-byte address is always valid", e);
        }
    }

    private AdminServer(HttpServer server, Routes routes) {
        this.server = server;
        this.routes = routes;
    }

    /**
     * A builder of an admin server that reports {@code status} and serves {@code registry} (usually
     * {@link ProxyMetrics#registry()}) at {@code /metrics}.
     */
    public static Builder builder(ProxyStatus status, PrometheusRegistry registry) {
        return new Builder(Checks.notNull(status, "status"), Checks.notNull(registry, "registry"));
    }

    /** The address the server is bound to (with the actual port when it was asked for port 0). */
    public InetSocketAddress address() {
        return server.localAddress();
    }

    /**
     * Stops listening, closes every open admin connection (letting answers in flight finish for up
     * to five seconds) and, if the server made its own event loop, shuts it down; returns once the
     * listening socket is closed, so its port can be bound again. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.close();
        routes.close();
    }

    @Override
    public String toString() {
        return "AdminServer[" + server.localAddress() + (closed.get() ? ", closed]" : "]");
    }

    /**
     * Settings of an {@link AdminServer}; each may be set once. Not thread-safe.
     */
    public static final class Builder {
        private final ProxyStatus status;
        private final PrometheusRegistry registry;
        private @Nullable InetSocketAddress listen;
        private @Nullable EventLoopGroup group;
        private @Nullable Transport transport;
        private @Nullable Duration idleTimeout;

        private Builder(ProxyStatus status, PrometheusRegistry registry) {
            this.status = status;
            this.registry = registry;
        }

        /** Where to listen; {@link #DEFAULT_LISTEN} (loopback) if not set. Port 0 picks a free port. */
        public Builder listen(InetSocketAddress listen) {
            Checks.notNull(listen, "listen");
            Checks.notSetTwice(this.listen, "listen");
            this.listen = listen;
            return this;
        }

        /**
         * Runs the server on {@code group}, whose event loops belong to {@code transport}; the caller
         * keeps owning the group. If not set, the server runs on one NIO thread of its own.
         */
        public Builder eventLoopGroup(EventLoopGroup group, Transport transport) {
            Checks.notNull(group, "group");
            Checks.notNull(transport, "transport");
            Checks.notSetTwice(this.group, "eventLoopGroup");
            this.group = group;
            this.transport = transport;
            return this;
        }

        /**
         * How long a connection may be idle, or take to send a whole request, before it is closed;
         * {@link #DEFAULT_IDLE_TIMEOUT} if not set.
         */
        public Builder idleTimeout(Duration idleTimeout) {
            Checks.positive(idleTimeout, "idleTimeout");
            Checks.notSetTwice(this.idleTimeout, "idleTimeout");
            this.idleTimeout = idleTimeout;
            return this;
        }

        /** Where the server will listen, for tests of the default. */
        InetSocketAddress listenAddress() {
            return listen == null ? DEFAULT_LISTEN : listen;
        }

        /**
         * Binds and starts the server; returns once it accepts connections.
         *
         * @throws IllegalStateException if it cannot listen (e.g. the port is in use), naming the address;
         *     nothing is left running then
         */
        public AdminServer start() {
            InetSocketAddress address = listenAddress();
            Duration idle = idleTimeout == null ? DEFAULT_IDLE_TIMEOUT : idleTimeout;
            var routes = new Routes(status, registry, idle, Clock.system());
            // Before listening: a probe answered when the process has no descriptor left must
            // not need one to load a class (see Routes.warm).
            routes.warm();
            // The idle timeout also bounds the time to send a request head (and, in Routes, a
            // reload's body), as it bounded a whole request before.
            ServerLimits limits = ServerLimits.defaults()
                    .withMaxRequestLineBytes(MAX_INITIAL_LINE)
                    .withMaxHeaderBytes(MAX_HEADER_SIZE)
                    .withMaxRequestBodyBytes(MAX_CONTENT_LENGTH)
                    .withIdleTimeout(idle)
                    .withHeaderReadTimeout(idle);
            HttpServer.Builder http = HttpServer.builder(routes)
                    .name("the admin server")
                    .bind(address)
                    .limits(limits)
                    .maxConnections(MAX_CONNECTIONS)
                    .reserveDescriptor()
                    .shutdownGrace(CLOSE_GRACE);
            EventLoopGroup loops = group;
            Transport loopsTransport = transport;
            if (loops != null && loopsTransport != null) {
                http.eventLoopGroup(loops, loopsTransport);
            } else {
                // NIO for a thread of its own: it pauses accepting after a failure, where io_uring's
                // accept would retry at once and spin while the process is out of file descriptors.
                http.ioThreads(1).transport(Transport.NIO);
            }
            HttpServer server;
            try {
                server = http.start();
            } catch (IllegalStateException e) {
                routes.close();
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new IllegalStateException(
                        "the admin server cannot listen on " + Addresses.format(address) + ": " + cause.getMessage(),
                        cause);
            }
            var admin = new AdminServer(server, routes);
            log.debug("admin server listening on {}", admin.address());
            return admin;
        }
    }
}
