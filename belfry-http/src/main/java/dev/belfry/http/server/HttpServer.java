package dev.belfry.http.server;

import dev.belfry.Checks;
import dev.belfry.Service;
import dev.belfry.http.HttpRequest;
import dev.belfry.http.HttpResponse;
import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
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
 */
public final class HttpServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ChannelGroup connections;
    private final Duration grace;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private HttpServer(EventLoopGroup group, Channel serverChannel, ChannelGroup connections, Duration grace) {
        this.group = group;
        this.serverChannel = serverChannel;
        this.connections = connections;
        this.grace = grace;
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
     * Stops accepting and lets requests in flight finish within {@code deadline}; the future
     * completes when every connection and thread is gone. Idempotent.
     */
    public CompletableFuture<Void> shutdown(Duration deadline) {
        Checks.nonNegative(deadline, "deadline");
        if (!closed.compareAndSet(false, true)) {
            return terminated;
        }
        serverChannel.close().addListener(unused -> {
            for (Channel connection : connections) {
                if (connection.pipeline().get(Http2FrameCodec.class) != null) {
                    connection.close(); // Netty's HTTP/2 handler sends GOAWAY and waits for the streams
                } else {
                    connection.pipeline().fireUserEventTriggered(ServerHandler.Signal.DRAIN);
                }
            }
            var allClosed = connections.newCloseFuture();
            group.schedule((Runnable) connections::close, deadline.toNanos(), TimeUnit.NANOSECONDS);
            allClosed.addListener(done ->
                    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(gone -> terminated.complete(null)));
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
            EventLoopGroup group = chosen.newEventLoopGroup(ioThreads, "belfry-http");
            ChannelGroup connections = new DefaultChannelGroup("belfry-http", GlobalEventExecutor.INSTANCE);
            Pipelines pipelines = new Pipelines(service, limits, grace);
            var bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(chosen.serverChannelType())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            connections.add(ch);
                            ch.pipeline().addLast(new ProtocolSelector(pipelines));
                        }
                    });
            try {
                Channel channel = bootstrap.bind(address).syncUninterruptibly().channel();
                return new HttpServer(group, channel, connections, grace);
            } catch (RuntimeException e) {
                group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
            }
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
            ResponseEncoder encoder = new ResponseEncoder();
            ServerHandler handler = new ServerHandler(service, limits, ServerHandler.Mode.HTTP1, encoder);
            StrictRequestDecoder decoder = new StrictRequestDecoder(limits, handler);
            HttpServerUpgradeHandler.SourceCodec source = ctx -> {
                pipeline.remove(decoder);
                pipeline.remove(encoder);
                pipeline.remove(handler);
                pipeline.channel().config().setAutoRead(true);
            };
            HttpServerUpgradeHandler.UpgradeCodecFactory h2c = protocol -> {
                if (!AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)) {
                    return null;
                }
                Http2FrameCodec codec = http2Codec();
                return new Http2ServerUpgradeCodec(codec, timeouts(codec).installer(), http2Multiplex(), new Discard());
            };
            int maxUpgradeBody = (int) Math.min(limits.maxRequestBodyBytes(), MAX_UPGRADE_BODY);
            pipeline.addLast(decoder, encoder, new UpgradeHandler(source, h2c, maxUpgradeBody), handler);
        }

        void http2(ChannelPipeline pipeline) {
            Http2FrameCodec codec = http2Codec();
            pipeline.addLast(timeouts(codec), codec, http2Multiplex(), new Discard());
            // The connection carries every stream's frames and control frames: read it always;
            // each stream's own reads (and so its flow-control window) follow its body's demand.
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
                    .build();
        }

        private Http2MultiplexHandler http2Multiplex() {
            return new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel stream) {
                    stream.config().setAutoRead(false);
                    stream.pipeline()
                            .addLast(
                                    new Http2StreamFrameToHttpObjectCodec(true),
                                    new ServerHandler(service, limits, ServerHandler.Mode.HTTP2_STREAM, null));
                }
            });
        }
    }

    /** The largest request body an {@code Upgrade: h2c} request may carry (it is read whole). */
    private static final long MAX_UPGRADE_BODY = 64 * 1024;

    /**
     * Netty's upgrade handler, taking only well-formed requests with one Host: a request the
     * connection handler would reject is passed on to it, never upgraded.
     */
    private static final class UpgradeHandler extends HttpServerUpgradeHandler {
        UpgradeHandler(SourceCodec source, UpgradeCodecFactory factory, int maxContentLength) {
            super(source, factory, maxContentLength);
        }

        @Override
        protected boolean shouldHandleUpgradeRequest(io.netty.handler.codec.http.HttpRequest request) {
            return request.decoderResult().isSuccess()
                    && request.headers().getAll(HttpHeaderNames.HOST).size() == 1;
        }
    }

    /** Releases connection-level frames the multiplexer passes on (none are used here). */
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
