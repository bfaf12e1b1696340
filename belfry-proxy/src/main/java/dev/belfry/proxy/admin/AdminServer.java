package dev.belfry.proxy.admin;

import dev.belfry.Checks;
import dev.belfry.netty.accept.AcceptErrors;
import dev.belfry.netty.transport.Transport;
import dev.belfry.proxy.config.Addresses;
import dev.belfry.time.Clock;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's admin HTTP server: liveness, readiness, health, Prometheus metrics, a dashboard and
 * reload, for operators and orchestrators (see the {@linkplain dev.belfry.proxy.admin package} for the
 * endpoints).
 *
 * <p>It listens on loopback ({@link #DEFAULT_LISTEN}) unless told otherwise, speaks HTTP/1.1 with
 * keep-alive, and holds every connection to small limits: a request line of {@value #MAX_INITIAL_LINE}
 * bytes, {@value #MAX_HEADER_SIZE} bytes of headers, a body of {@value #MAX_CONTENT_LENGTH} bytes, and
 * an idle timeout, which also bounds how long a client may take to send a whole request, however
 * slowly it trickles the bytes. At most {@value #MAX_CONNECTIONS} connections are open at once: a
 * new one past that closes the one that has waited longest for a request, so idle clients cannot
 * lock out a health probe, and is itself closed only if every connection is being answered.
 * Accept failures (out of file descriptors) pause accepting and are logged at most every ten
 * seconds. It runs on an event-loop group it is given, or on a
 * single NIO thread of its own, apart from the proxy's I/O threads (the proxy's choice: {@code /live}
 * then asks those threads whether they answer).
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
    private static final long CLOSE_WAIT_SECONDS = 5;

    private final Channel serverChannel;
    private final ChannelGroup connections;
    private final @Nullable EventLoopGroup ownGroup;
    private final AtomicBoolean closed = new AtomicBoolean();

    // 127.0.0.1 itself, as documented, even where the JVM prefers IPv6 for getLoopbackAddress().
    private static InetSocketAddress ipv4Loopback(int port) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port);
        } catch (UnknownHostException e) {
            throw new AssertionError("a four-byte address is always valid", e);
        }
    }

    private AdminServer(Channel serverChannel, ChannelGroup connections, @Nullable EventLoopGroup ownGroup) {
        this.serverChannel = serverChannel;
        this.connections = connections;
        this.ownGroup = ownGroup;
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
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /**
     * Stops listening, closes every open admin connection and, if the server made its own event loop,
     * shuts it down; returns once the listening socket is closed, so its port can be bound again.
     * Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        serverChannel.close().awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        connections.close().awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        if (ownGroup != null) {
            ownGroup.shutdownGracefully(0, CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)
                    .awaitUninterruptibly(2 * CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /**
     * Closes the connection that has waited longest for a request, to make room for a new one;
     * returns false if every connection is being answered.
     */
    private static boolean evictLongestWaiting(ChannelGroup connections) {
        Channel oldest = null;
        long oldestLeft = Long.MAX_VALUE;
        for (Channel channel : connections) {
            // Every connection gets the same time to send a request: the nearest deadline is the
            // connection that has waited longest.
            ScheduledFuture<?> deadline =
                    channel.attr(AdminHandler.REQUEST_DEADLINE).get();
            if (deadline != null && deadline.getDelay(TimeUnit.NANOSECONDS) < oldestLeft) {
                oldest = channel;
                oldestLeft = deadline.getDelay(TimeUnit.NANOSECONDS);
            }
        }
        if (oldest == null) {
            return false;
        }
        // Out of the group now, so the count is right for the next accept.
        connections.remove(oldest);
        oldest.close();
        return true;
    }

    @Override
    public String toString() {
        return "AdminServer[" + serverChannel.localAddress() + (closed.get() ? ", closed]" : "]");
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
            // NIO for a thread of its own: it pauses accepting after a failure, where io_uring's
            // accept would retry at once and spin while the process is out of file descriptors.
            Transport chosen = transport != null ? transport : Transport.NIO;
            EventLoopGroup ownGroup = group == null ? chosen.newEventLoopGroup(1, "belfry-admin") : null;
            EventLoopGroup loops = group != null ? group : ownGroup;
            long idleMillis = (idleTimeout == null ? DEFAULT_IDLE_TIMEOUT : idleTimeout).toMillis();
            var routes = new Routes(status, registry);
            var connections = new DefaultChannelGroup("belfry-admin", GlobalEventExecutor.INSTANCE);
            var decoderConfig = new HttpDecoderConfig()
                    .setMaxInitialLineLength(MAX_INITIAL_LINE)
                    .setMaxHeaderSize(MAX_HEADER_SIZE)
                    .setMaxChunkSize(8192);
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(loops)
                    .channel(chosen.serverChannelType())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.SO_BACKLOG, 128)
                    .handler(new AcceptErrors("the admin server", Clock.system()))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            if (connections.size() >= MAX_CONNECTIONS && !evictLongestWaiting(connections)) {
                                channel.close(); // every connection is in the middle of a request
                                return;
                            }
                            connections.add(channel);
                            channel.pipeline()
                                    .addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
                                    .addLast(new HttpServerCodec(decoderConfig))
                                    .addLast(new HttpObjectAggregator(MAX_CONTENT_LENGTH))
                                    .addLast(new AdminHandler(routes, idleMillis));
                        }
                    });
            ChannelFuture bind = bootstrap.bind(address).awaitUninterruptibly();
            if (!bind.isSuccess()) {
                if (ownGroup != null) {
                    ownGroup.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly();
                }
                Throwable cause = bind.cause();
                throw new IllegalStateException(
                        "the admin server cannot listen on " + Addresses.format(address) + ": " + cause.getMessage(),
                        cause);
            }
            var server = new AdminServer(bind.channel(), connections, ownGroup);
            log.debug("admin server listening on {}", server.address());
            return server;
        }
    }
}
