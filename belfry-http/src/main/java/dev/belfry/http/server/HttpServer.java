package dev.belfry.http.server;

import dev.belfry.Checks;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.http.RequestAttribute;
import dev.belfry.netty.accept.AcceptErrors;
import dev.belfry.netty.transport.Transport;
import dev.belfry.time.Clock;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * Serves a {@code Service<HttpRequest, HttpResponse>} over HTTP/1.1 and h2c (HTTP/2 by prior
 * knowledge) on one port.
 *
 * <pre>{@code
 * try (HttpServer server = HttpServer.builder(request -> CompletableFuture.completedFuture(HttpResponse.text("hi")))
 *         .bind("127.0.0.1", 8080)
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>{@link #close()} shuts down gracefully: it stops accepting, answers requests in flight with
 * {@code Connection: close} (HTTP/1.1) or sends GOAWAY (HTTP/2), waits for them up to the grace
 * period, then closes what is left. Thread-safe.
 *
 * <p>Accept failures (out of file descriptors, say) are logged at most every ten seconds and pause
 * accepting for a second (see {@link AcceptErrors}). Two options keep a server reachable when
 * clients or the rest of the process crowd it: {@link Builder#maxConnections} closes the
 * connection that has waited longest for a request to make room for a new one, and {@link
 * Builder#reserveDescriptor} keeps a file descriptor in reserve for the connection that arrives
 * when the process has none left.
 */
public final class HttpServer implements AutoCloseable {
    /**
     * The TCP peer of the connection a request came on, set by the server on every request (absent
     * for a unix-socket peer). It is the connection's own address, never a forwarding header: a
     * client cannot choose it, so it can key rate limits and logs.
     */
    public static final RequestAttribute<InetSocketAddress> REMOTE_ADDRESS =
            RequestAttribute.of("remote-address", InetSocketAddress.class);

    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final Channel serverChannel;
    private final ChannelGroup connections;
    private final Duration grace;
    private final @Nullable DescriptorReserve reserve;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private HttpServer(
            EventLoopGroup group,
            boolean ownsGroup,
            Channel serverChannel,
            ChannelGroup connections,
            Duration grace,
            @Nullable DescriptorReserve reserve) {
        this.group = group;
        this.ownsGroup = ownsGroup;
        this.serverChannel = serverChannel;
        this.connections = connections;
        this.grace = grace;
        this.reserve = reserve;
    }

    /** A builder serving {@code service}. */
    public static Builder builder(Service<HttpRequest, HttpResponse> service) {
        return new Builder(service);
    }

    /** The address the server listens on (with the chosen port if it bound port 0). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The port the server listens on. */
    public int port() {
        return localAddress().getPort();
    }

    /** The number of open client connections. */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Whether the file descriptor of {@link Builder#reserveDescriptor()} is held now: false if the
     * option is off, or while the reserve is spent and no descriptor was free to take it back.
     */
    public boolean descriptorReserved() {
        return reserve != null && reserve.held();
    }

    /**
     * Stops accepting and lets requests in flight finish within {@code deadline}; the future
     * completes when every connection and thread is gone. Idempotent.
     */
    public CompletableFuture<Void> shutdown(Duration deadline) {
        Checks.nonNegative(deadline, "deadline");
        if (!closed.compareAndSet(false, true)) {
            return terminated;
        }
        serverChannel.close().addListener(unused -> {
            if (reserve != null) {
                reserve.release();
            }
            for (Channel connection : connections) {
                if (connection.pipeline().get(Http2FrameCodec.class) != null) {
                    connection.close(); // Netty's HTTP/2 handler sends GOAWAY and waits for the streams
                } else {
                    connection.pipeline().fireUserEventTriggered(ServerHandler.Signal.DRAIN);
                }
            }
            var allClosed = connections.newCloseFuture();
            var cut = group.schedule((Runnable) connections::close, deadline.toNanos(), TimeUnit.NANOSECONDS);
            allClosed.addListener(done -> {
                cut.cancel(false);
                if (ownsGroup) {
                    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(gone -> terminated.complete(null));
                } else {
                    terminated.complete(null); // the caller's group: it keeps running
                }
            });
        });
        return terminated;
    }

    /** Shuts down with the builder's grace period and waits for it. */
    @Override
    public void close() {
        shutdown(grace).join();
    }

    /** Configures a server; not thread-safe. */
    public static final class Builder {
        private final Service<HttpRequest, HttpResponse> service;
        private InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        private ServerLimits limits = ServerLimits.defaults();
        private int ioThreads = Runtime.getRuntime().availableProcessors();
        private Duration grace = Duration.ofSeconds(10);
        private @Nullable Transport transport;
        private @Nullable EventLoopGroup group;
        private int maxConnections;
        private boolean reserveDescriptor;
        private String name = "the HTTP server";

        private Builder(Service<HttpRequest, HttpResponse> service) {
            this.service = Checks.notNull(service, "service");
        }

        /** Where to listen; the default is {@code 127.0.0.1} on a free port. */
        public Builder bind(String host, int port) {
            Checks.notNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0 to 65535, was " + port);
            }
            this.address = new InetSocketAddress(host, port);
            return this;
        }

        /** Where to listen, as a socket address (port 0 picks a free port). */
        public Builder bind(InetSocketAddress value) {
            this.address = Checks.notNull(value, "address");
            return this;
        }

        /**
         * Runs the server on {@code value}, whose event loops belong to {@code loopsTransport},
         * instead of a group of its own; the caller keeps owning the group ({@link #close()} leaves
         * it running). {@link #ioThreads} and {@link #transport} do not apply then.
         */
        public Builder eventLoopGroup(EventLoopGroup value, Transport loopsTransport) {
            this.group = Checks.notNull(value, "eventLoopGroup");
            this.transport = Checks.notNull(loopsTransport, "transport");
            return this;
        }

        /**
         * The most connections open at once; past it a new connection closes the one that has
         * waited longest for a request (an idle keep-alive connection, or one still sending its
         * request head), or is itself closed at once if every connection is being answered or
         * speaks HTTP/2. Unlimited unless set.
         */
        public Builder maxConnections(int value) {
            this.maxConnections = Checks.positive(value, "maxConnections");
            return this;
        }

        /**
         * Keeps one file descriptor open in reserve: when accepting fails because the process has
         * run out of descriptors, the server closes the reserve and accepts at once instead of
         * pausing, and takes the reserve back once a descriptor is free again. For a server that
         * must answer while the rest of the process holds every descriptor (an admin or health
         * endpoint). Off unless set.
         */
        public Builder reserveDescriptor() {
            this.reserveDescriptor = true;
            return this;
        }

        /** How logs name this server, e.g. {@code the admin server}; {@code the HTTP server} unless set. */
        public Builder name(String value) {
            this.name = Checks.notNull(value, "name");
            return this;
        }

        /** The protective limits; {@link ServerLimits#defaults()} unless set. */
        public Builder limits(ServerLimits value) {
            this.limits = Checks.notNull(value, "limits");
            return this;
        }

        /** Event-loop threads; the number of processors unless set. */
        public Builder ioThreads(int value) {
            this.ioThreads = Checks.positive(value, "ioThreads");
            return this;
        }

        /** How long {@link #close()} lets requests in flight finish; 10 seconds unless set. */
        public Builder shutdownGrace(Duration value) {
            this.grace = Checks.nonNegative(value, "shutdownGrace");
            return this;
        }

        /** The I/O transport; {@link Transport#select()} unless set. */
        public Builder transport(Transport value) {
            this.transport = Checks.notNull(value, "transport");
            return this;
        }

        /**
         * Binds and starts serving.
         *
         * @throws IllegalStateException if the address cannot be bound (the cause says why)
         */
        public HttpServer start() {
            Transport chosen = transport != null ? transport : Transport.select();
            boolean ownsGroup = group == null;
            EventLoopGroup loops = group != null ? group : chosen.newEventLoopGroup(ioThreads, "belfry-http");
            ChannelGroup connections = new DefaultChannelGroup("belfry-http", GlobalEventExecutor.INSTANCE);
            Pipelines pipelines = new Pipelines(service, limits, grace);
            ConnectionCap cap = maxConnections > 0 ? new ConnectionCap(maxConnections) : null;
            DescriptorReserve reserve = reserveDescriptor ? new DescriptorReserve() : null;
            String what = name;
            var bootstrap = new ServerBootstrap()
                    .group(loops)
                    .channel(chosen.serverChannelType())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel server) {
                            // Before Netty's acceptor, so the reserve sees an accept failure first.
                            if (reserve != null) {
                                server.pipeline().addLast(reserve);
                            }
                            server.pipeline().addLast(new AcceptErrors(what, Clock.system()));
                        }
                    })
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (reserve != null) {
                                reserve.refill();
                                ch.closeFuture().addListener((ChannelFutureListener) f -> reserve.refill());
                            }
                            if (cap != null && !cap.admit(ch, connections)) {
                                ch.close(); // every connection is busy: none can make room
                                return;
                            }
                            connections.add(ch);
                            ch.pipeline().addLast(new ProtocolSelector(pipelines));
                        }
                    });
            // Awaited, not synced: sync would rethrow a BindException as is, undeclared.
            ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                if (reserve != null) {
                    reserve.release();
                }
                if (ownsGroup) {
                    loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                }
                Throwable cause = bound.cause();
                throw new IllegalStateException("cannot listen on " + address + ": " + cause.getMessage(), cause);
            }
            return new HttpServer(loops, ownsGroup, bound.channel(), connections, grace, reserve);
        }
    }

    /** Builds the per-protocol pipelines; shared by every connection. */
    static final class Pipelines {
        private final Service<HttpRequest, HttpResponse> service;
        private final ServerLimits limits;
        private final Duration grace;

        Pipelines(Service<HttpRequest, HttpResponse> service, ServerLimits limits, Duration grace) {
            this.service = service;
            this.limits = limits;
            this.grace = grace;
        }

        void http1(ChannelPipeline pipeline) {
            HttpResponseEncoder encoder = new HttpResponseEncoder();
            ServerHandler handler = new ServerHandler(service, limits, encoder);
            StrictRequestDecoder decoder = new StrictRequestDecoder(limits, handler);
            HttpServerUpgradeHandler.SourceCodec source = ctx -> {
                pipeline.remove(decoder);
                pipeline.remove(encoder);
                pipeline.remove(handler);
                ConnectionCap.busy(pipeline.channel());
                pipeline.channel().config().setAutoRead(true);
            };
            HttpServerUpgradeHandler.UpgradeCodecFactory h2c = protocol -> {
                if (!AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)) {
                    return null;
                }
                Http2FrameCodec codec = http2Codec();
                return new Http2ServerUpgradeCodec(
                        codec, timeouts(codec).installer(), new Http2ServerHandler(service, limits, codec));
            };
            int maxUpgradeBody = (int) Math.min(limits.maxRequestBodyBytes(), MAX_UPGRADE_BODY);
            pipeline.addLast(decoder, encoder, new UpgradeHandler(source, h2c, maxUpgradeBody), handler);
        }

        void http2(ChannelPipeline pipeline) {
            ConnectionCap.busy(pipeline.channel()); // streams may come at any time: never evicted
            Http2FrameCodec codec = http2Codec();
            pipeline.addLast(timeouts(codec), codec, new Http2ServerHandler(service, limits, codec));
            // The connection carries every stream's frames and control frames: read it always;
            // each stream's flow-control window follows its request body's demand.
            pipeline.channel().config().setAutoRead(true);
        }

        private Http2Timeouts timeouts(Http2FrameCodec codec) {
            return new Http2Timeouts(codec, limits.http2IdleTimeout(), limits.streamHeaderTimeout());
        }

        private Http2FrameCodec http2Codec() {
            return Http2FrameCodecBuilder.forServer()
                    .initialSettings(Http2Settings.defaultSettings()
                            .maxConcurrentStreams(limits.maxConcurrentStreams())
                            .maxHeaderListSize(limits.maxHeaderBytes()))
                    .gracefulShutdownTimeoutMillis(grace.toMillis())
                    .validateHeaders(true)
                    .encoderEnforceMaxQueuedControlFrames(MAX_QUEUED_CONTROL_FRAMES)
                    .build();
        }
    }

    /**
     * The most control frames (PING and SETTINGS acknowledgements, resets) an HTTP/2 connection
     * may have queued for a client that does not read them; past it the connection is closed.
     * Netty's default is 10,000, which lets one hostile connection hold megabytes; 1,000 is
     * Envoy's default and far above what a well-behaved client causes.
     */
    static final int MAX_QUEUED_CONTROL_FRAMES = 1000;

    /** The largest request body an {@code Upgrade: h2c} request may carry (it is read whole). */
    private static final long MAX_UPGRADE_BODY = 64 * 1024;

    /**
     * Netty's upgrade handler, taking only well-formed requests with one Host: a request the
     * connection handler would reject is passed on to it, never upgraded.
     */
    private static final class UpgradeHandler extends HttpServerUpgradeHandler {
        private boolean upgradeRequest; // between a request asking for an upgrade and its end

        UpgradeHandler(SourceCodec source, UpgradeCodecFactory factory, int maxContentLength) {
            super(source, factory, maxContentLength);
        }

        /**
         * Passes a request that does not ask for an upgrade, and its body, straight on: Netty's
         * handler would pass it on too, after a detour through its aggregator's machinery for
         * every message of every request. A whole request (one without a body, as the decoder
         * passes it) it would pass on untouched; the decoder keeps a request asking for an upgrade
         * in two messages.
         */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (!upgradeRequest) {
                if (msg instanceof FullHttpRequest
                        || !(msg instanceof io.netty.handler.codec.http.HttpRequest request)
                        || !request.headers().contains(HttpHeaderNames.UPGRADE)) {
                    ctx.fireChannelRead(msg);
                    return;
                }
                upgradeRequest = true;
            }
            if (msg instanceof LastHttpContent) {
                upgradeRequest = false;
            }
            super.channelRead(ctx, msg);
        }

        @Override
        protected boolean shouldHandleUpgradeRequest(io.netty.handler.codec.http.HttpRequest request) {
            return request.decoderResult().isSuccess()
                    && request.headers().getAll(HttpHeaderNames.HOST).size() == 1;
        }
    }
}
