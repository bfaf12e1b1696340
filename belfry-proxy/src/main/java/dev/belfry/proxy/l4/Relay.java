package dev.belfry.proxy.l4;

import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.proxy.config.ProxyProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection and its backend connection: the byte relay.
 *
 * <p>Both channels run on the client channel's event loop, so all of this state is confined to one
 * thread and takes no lock. Auto-read is off on both: a side is read only while the other side is
 * writable (after each read batch, the write side is flushed and the next read asked for only if it
 * is still writable; otherwise its writability change asks for it), so a slow peer holds at most a
 * water mark plus one read batch per direction. A half close (FIN) on one side is passed on as a
 * shutdown of the other side's output once everything before it is written; the second FIN is
 * passed on by closing both sides, since then both directions are done. A reset or an I/O error on
 * one side is passed on as a reset of the other, so that a stream cut short never looks complete.
 * The relay also closes at once on the idle timeout or a drain.
 *
 * <p>The client is read as soon as it is accepted, while the backend connects: its first bytes are
 * held (up to {@value #EARLY_LIMIT} bytes plus one read batch) and written the moment the backend
 * connection is up. Reading stays asked for through the connect, so the client socket's read
 * interest is not dropped after its first bytes and asked for again a moment later (two {@code
 * epoll_ctl} calls per connection saved).
 *
 * <p>Both sides are handled by one handler class, {@link Side}, one instance per channel, each
 * relaying what it reads to the other; the PROXY header is read by its own handler ahead of the
 * client side, and the idle timer and the access-log line belong to the relay as a whole.
 *
 * <p>Every buffer read is either written on (the write releases it) or released here.
 */
final class Relay extends RelayBase {
    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

    /** Bytes read from a client before its backend is connected past which reading it pauses. */
    static final int EARLY_LIMIT = 64 * 1024;

    private final Channel inbound;
    private @Nullable Channel outbound;
    private @Nullable ArrayDeque<ByteBuf> early;
    // Bytes held in `early`.
    private int earlyBytes;
    private @Nullable ScheduledFuture<?> headerTimer;
    private final Side front;
    private final Side back;

    private Relay(RelayEngine engine, Listener listener, ListenerConfig config, Channel inbound) {
        super(engine, listener, config, address(inbound.remoteAddress()), address(inbound.localAddress()));
        this.inbound = inbound;
        this.front = new Side(true, inbound);
        this.back = new Side(false, null);
        front.other = back;
        back.other = front;
    }

    /** Sets up a just-accepted client channel, or closes it at once if its listener is full. */
    static void accept(RelayEngine engine, Listener listener, Channel channel) {
        if (!admitted(engine, listener)) {
            channel.close();
            return;
        }
        ListenerConfig config = listener.config();
        Relay relay = new Relay(engine, listener, config, channel);
        engine.opened(relay);
        ChannelPipeline pipeline = channel.pipeline();
        if (config.acceptProxyProtocol() != ProxyProtocol.NONE) {
            pipeline.addLast("proxy-decoder", new HAProxyMessageDecoder());
            pipeline.addLast("proxy-header", relay.new HeaderHandler());
        }
        relay.armIdleTimer();
        pipeline.addLast("relay", relay.front);
    }

    /**
     * Relays {@code channel}, a client connection already admitted and active, to {@code
     * connection}, a backend already connected on the same event loop, as a relay does once its
     * backend connects (with no PROXY header either way). The seam that lets the byte relay be
     * tested over channels without sockets.
     */
    static Relay relay(RelayEngine engine, Listener listener, Channel channel, BackendConnection connection) {
        ListenerConfig config = listener.config();
        if (!listener.stats().admit(config.maxConnections())) {
            throw new IllegalStateException("listener " + config.name() + " is full");
        }
        Relay relay = new Relay(engine, listener, config, channel);
        engine.opened(relay);
        relay.armIdleTimer();
        channel.pipeline().addLast("relay", relay.front);
        relay.backend = connection.backend();
        relay.attach(connection, ProxyProtocol.NONE);
        return relay;
    }

    Channel inbound() {
        return inbound;
    }

    @Override
    EventLoop eventLoop() {
        return inbound.eventLoop();
    }

    @Override
    boolean backendReadingPaused() {
        return back.paused;
    }

    @Override
    long bytesHeldForClient() {
        ChannelOutboundBuffer queued = inbound.unsafe().outboundBuffer();
        return queued == null ? 0 : queued.totalPendingWriteBytes();
    }

    @Nullable
    Channel outbound() {
        return outbound;
    }

    @Override
    ConnectRequest connectRequest() {
        return ConnectRequest.of(inbound, client, destination);
    }

    @Override
    void attach(BackendConnection connection, ProxyProtocol send) {
        Channel out = connection.channel();
        if (out == null) {
            connection.close();
            close("the backend connection is not a channel");
            return;
        }
        outbound = out;
        if (!out.isActive()) {
            close("backend closed before the relay started");
            return;
        }
        back.channel = out;
        out.pipeline().addLast("relay", back);
        if (send != ProxyProtocol.NONE) {
            out.pipeline().addFirst("proxy-encoder", HAProxyMessageEncoder.INSTANCE);
            out.write(header(send, client, destination), out.voidPromise());
            out.pipeline().remove("proxy-encoder");
        }
        ArrayDeque<ByteBuf> pending = early;
        early = null;
        if (pending != null) {
            ByteBuf buf;
            while ((buf = pending.poll()) != null) {
                front.forward(out, buf);
            }
        }
        out.flush();
        if (front.inputEnded) {
            passFin(back);
        } else {
            readMore(inbound);
        }
        readMore(out);
    }

    /** The PROXY protocol header that tells a backend of {@code client}, connected to {@code destination}. */
    static HAProxyMessage header(ProxyProtocol version, InetSocketAddress client, InetSocketAddress destination) {
        HAProxyProtocolVersion v = version == ProxyProtocol.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2;
        InetAddress source = client.getAddress();
        InetAddress target = destination.getAddress();
        boolean v4 = source instanceof Inet4Address && target instanceof Inet4Address;
        return new HAProxyMessage(
                v,
                HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                literal(source, v4),
                literal(target, v4),
                client.getPort(),
                destination.getPort());
    }

    private static String literal(InetAddress address, boolean v4) {
        if (v4) {
            return address.getHostAddress();
        }
        if (address instanceof Inet4Address) {
            // One side IPv4, the other IPv6: a header has one family, so map IPv4 into IPv6.
            return "::ffff:" + address.getHostAddress();
        }
        String text = address.getHostAddress();
        int scope = text.indexOf('%');
        return scope < 0 ? text : text.substring(0, scope);
    }

    // ---- relaying ----------------------------------------------------------------------------

    /**
     * Asks {@code channel} for more bytes, unless its input is already shut down (its peer sent
     * FIN): there is nothing more to read, and asking would only make the event loop watch a
     * socket that is always readable at its end.
     */
    private static void readMore(Channel channel) {
        if (channel instanceof DuplexChannel duplex && duplex.isInputShutdown()) {
            return;
        }
        channel.read();
    }

    /**
     * Passes a FIN on to {@code channel}: shuts its output once everything written to it before is
     * flushed. If the other direction has already ended (its FIN was passed on to the other side),
     * the connection is finished, and it is closed instead: both peers have sent everything and read
     * to the end, so closing sends the same FIN and saves a system call per connection.
     */
    private void passFin(Side to) {
        Channel channel = to.channel;
        if (channel == null) {
            throw new IllegalStateException("a FIN passed on to the " + to.name() + " before it is connected");
        }
        boolean last = to.other().outputShut;
        if (last ? flushed(channel) : NioRelayChannels.shutdownOutputNow(channel)) {
            outputShut(to); // nothing was queued: done at once
            return;
        }
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) written -> {
            if (!written.isSuccess()) {
                close("write failed: " + describe(written.cause()));
            } else {
                finFlushed(channel, to, last);
            }
        });
    }

    private void finFlushed(Channel channel, Side to, boolean last) {
        if (last || NioRelayChannels.shutdownOutputNow(channel)) {
            outputShut(to);
            return;
        }
        ((DuplexChannel) channel).shutdownOutput().addListener((ChannelFutureListener) shut -> outputShut(to));
    }

    private void outputShut(Side to) {
        to.outputShut = true;
        if (front.outputShut && back.outputShut) {
            close("done");
        }
    }

    private static boolean flushed(Channel channel) {
        ChannelOutboundBuffer queued = channel.unsafe().outboundBuffer();
        return queued != null && queued.totalPendingWriteBytes() == 0;
    }

    /**
     * Ends the connection after one side failed (a reset, a read or write error): the other side,
     * {@code peer}, is reset rather than closed, so that its end sees the stream was cut short
     * instead of a clean end after a truncated stream.
     */
    private void abort(String reason, @Nullable Channel peer) {
        if (closed) {
            return;
        }
        if (peer != null && peer.isOpen()) {
            try {
                peer.config().setOption(ChannelOption.SO_LINGER, 0); // close sends a reset
            } catch (ChannelException e) {
                LOG.debug("cannot set SO_LINGER to pass a reset on; closing normally", e);
            }
        }
        close(reason, false);
    }

    @Override
    void close(String reason) {
        close(reason, false);
    }

    /**
     * Closes both sides once. Gracefully when a peer closed normally: what was already written to
     * the other side is flushed first, for at most the idle timeout.
     */
    void close(String reason, boolean graceful) {
        if (!beginClose(reason)) {
            return;
        }
        ScheduledFuture<?> timer = headerTimer;
        if (timer != null) {
            timer.cancel(false);
        }
        ArrayDeque<ByteBuf> pending = early;
        early = null;
        if (pending != null) {
            pending.forEach(ReferenceCountUtil::safeRelease);
        }
        closeChannel(inbound, graceful);
        Channel out = outbound;
        if (out != null) {
            closeChannel(out, graceful);
        }
        finishClose(reason, front.bytesRead, back.bytesRead);
    }

    /**
     * The client channel is active: connect to a backend, or first wait for the PROXY header. The
     * client is read while the backend connects: its first bytes (usually the whole request) are
     * then written as soon as the connection is up; at most {@link #EARLY_LIMIT} bytes plus one
     * read batch, since reading pauses past that until then.
     */
    private void clientActive(ChannelHandlerContext ctx) {
        if (config.acceptProxyProtocol() == ProxyProtocol.NONE) {
            connect();
            if (!closed) {
                ctx.read();
            }
            return;
        }
        long timeout = config.proxyHeaderTimeout().toMillis();
        headerTimer = ctx.executor()
                .schedule(
                        () -> {
                            if (!closed && ctx.pipeline().get("proxy-header") != null) {
                                listener.stats().proxyHeaderFailed();
                                close("no PROXY protocol header within " + timeout + " ms");
                            }
                        },
                        timeout,
                        TimeUnit.MILLISECONDS);
        ctx.read();
    }

    private void closeChannel(Channel channel, boolean graceful) {
        if (!graceful || !channel.isActive()) {
            channel.close();
            return;
        }
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        ScheduledFuture<?> force = channel.eventLoop()
                .schedule(() -> channel.close(), config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(done -> force.cancel(false));
    }

    /**
     * One side of the relay, the client's or the backend's: the same handler for both, each
     * relaying what its channel reads to the other side's channel. The sides differ only where a
     * connection is asymmetric: the client side starts the connection (and holds its first bytes
     * until the backend is connected), and each side counts its bytes in its own direction.
     */
    private final class Side extends ChannelInboundHandlerAdapter {
        private final boolean client;
        // This side's channel: the client's from the start, the backend's once it is connected.
        private @Nullable Channel channel;
        private @Nullable Side other;
        // Reading this side waits for the other side's channel to become writable again.
        private boolean paused;
        // This side's peer sent its FIN (its input ended).
        private boolean inputEnded;
        // A FIN was passed on to this side (its output is shut).
        private boolean outputShut;
        // Bytes read from this side.
        private long bytesRead;

        Side(boolean client, @Nullable Channel channel) {
            this.client = client;
            this.channel = channel;
        }

        private Side other() {
            Side side = other;
            if (side == null) {
                throw new IllegalStateException("a relay side used before both were made");
            }
            return side;
        }

        private String name() {
            return client ? "client" : "backend";
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (client) {
                clientActive(ctx);
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (closed || !(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            lastRead = clock.nanoTime();
            Channel out = other().channel;
            if (out == null) {
                // Bytes the client sent before the backend is connected (or with the PROXY header):
                // bounded, since reading pauses past EARLY_LIMIT until it is.
                ArrayDeque<ByteBuf> pending = early;
                if (pending == null) {
                    pending = new ArrayDeque<>(2);
                    early = pending;
                }
                pending.add(buf);
                earlyBytes += buf.readableBytes();
                return;
            }
            forward(out, buf);
        }

        /** Writes {@code buf}, read from this side, to the other side's channel {@code out}. */
        void forward(Channel out, ByteBuf buf) {
            int n = buf.readableBytes();
            bytesRead += n;
            BackendStats stats = backend;
            if (stats != null) {
                if (client) {
                    stats.sent(n);
                } else {
                    stats.received(n);
                }
            }
            out.write(buf, out.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Channel in = channel;
            Channel out = other().channel;
            if (closed || in == null) {
                return;
            }
            if (out == null) {
                // The client while its backend connects: keep reading it, up to a bound.
                if (client && earlyBytes < EARLY_LIMIT) {
                    readMore(in);
                }
                return;
            }
            out.flush();
            if (out.isWritable()) {
                readMore(in);
            } else {
                paused = true;
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            // This side can take writes again: resume reading the other side if it waited for that.
            Side from = other();
            Channel in = from.channel;
            if (from.paused && ctx.channel().isWritable() && in != null && !closed) {
                from.paused = false;
                readMore(in);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                inputEnded = true;
                Side to = other();
                if (to.channel != null && !closed) {
                    passFin(to);
                }
            }
            ReferenceCountUtil.release(event);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            String reason = client && other().channel == null
                    ? "client closed before a backend was connected"
                    : name() + " closed";
            close(reason, true);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            abort(name() + " error: " + describe(cause), other().channel);
        }
    }

    /** Reads the PROXY protocol header, takes the client address from it, then steps aside. */
    private final class HeaderHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage header)) {
                ctx.fireChannelRead(msg);
                return;
            }
            String problem;
            try {
                problem = accept(header);
            } finally {
                header.release();
            }
            if (problem != null) {
                listener.stats().proxyHeaderFailed();
                close(problem, false);
                return;
            }
            ScheduledFuture<?> timer = headerTimer;
            if (timer != null) {
                timer.cancel(false);
                headerTimer = null;
            }
            ctx.pipeline().remove(this);
            if (!closed) {
                connect();
            }
        }

        private @Nullable String accept(HAProxyMessage header) {
            HAProxyProtocolVersion expected = config.acceptProxyProtocol() == ProxyProtocol.V1
                    ? HAProxyProtocolVersion.V1
                    : HAProxyProtocolVersion.V2;
            if (header.protocolVersion() != expected) {
                return "PROXY protocol " + header.protocolVersion() + " header where " + expected + " is expected";
            }
            if (header.command() != HAProxyCommand.PROXY) {
                return null; // LOCAL: a health check of the sender; the real addresses stand.
            }
            HAProxyProxiedProtocol protocol = header.proxiedProtocol();
            if (protocol != HAProxyProxiedProtocol.TCP4 && protocol != HAProxyProxiedProtocol.TCP6) {
                return null; // UNKNOWN (or not TCP): nothing to take over.
            }
            InetAddress source = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
            InetAddress target = NetUtil.createInetAddressFromIpAddressString(header.destinationAddress());
            if (source == null || target == null) {
                return "PROXY protocol header with unreadable addresses";
            }
            client = new InetSocketAddress(source, header.sourcePort());
            destination = new InetSocketAddress(target, header.destinationPort());
            return null;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!closed) {
                listener.stats().proxyHeaderFailed();
            }
            LOG.debug("bad PROXY protocol header from {}", client, cause);
            close("bad PROXY protocol header: " + describe(cause));
        }
    }
}
