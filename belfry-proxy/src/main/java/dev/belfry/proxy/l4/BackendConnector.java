package dev.belfry.proxy.l4;

import dev.belfry.Checks;
import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.DirectSocket;
import io.netty.channel.epoll.RelayEpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.resolver.AddressResolver;
import io.netty.resolver.DefaultAddressResolverGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One backend as a service: each call opens a TCP connection to it on the request's event loop and
 * completes with it connected: a {@link DirectSocket} when the request asks for one, else a channel.
 *
 * <p>It has no limit of its own: the cluster stack puts a {@link dev.belfry.limit.ConcurrencyLimit}
 * over it whose permit is held until the channel closes, so the limit counts open connections. A
 * failed connect fails with {@link ConnectFailedException}. Cancelling the future abandons the
 * connect and closes the channel. {@link #close} only stops new connects: connections already
 * handed out belong to their relays. Thread-safe.
 */
final class BackendConnector implements Service<ConnectRequest, BackendConnection> {
    /** The write-buffer water marks of both sides of a relay. */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

    private static final ChannelInboundHandlerAdapter NOTHING = new Nothing();

    private final InetSocketAddress address;
    private final BackendStats stats;
    private final ClusterSettings settings;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SocketProtocolFamily family;

    BackendConnector(InetSocketAddress address, BackendStats stats, ClusterSettings settings) {
        this.address = address;
        this.stats = stats;
        this.settings = settings;
        this.family = NioRelayChannels.family(address);
    }

    @Override
    public CompletableFuture<BackendConnection> call(ConnectRequest request) {
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("backend " + address + " was removed"));
        }
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        connect(request, result);
        return result;
    }

    @Override
    public @Nullable CompletableFuture<BackendConnection> tryCall(ConnectRequest request) {
        if (closed.get()) {
            return null;
        }
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        connect(request, result);
        return result;
    }

    /** Opens the connection and completes {@code result} with it, or with the connect failure. */
    private void connect(ConnectRequest request, CompletableFuture<BackendConnection> result) {
        if (request.direct()) {
            EventLoop loop = request.eventLoop();
            if (loop.inEventLoop()) {
                connectDirect(loop, result);
            } else {
                try {
                    loop.execute(() -> connectDirect(loop, result));
                } catch (RejectedExecutionException e) {
                    result.completeExceptionally(ConnectFailedException.local(address, e));
                }
            }
            return;
        }
        long start = settings.clock().nanoTime();
        ChannelFuture connect;
        try {
            connect = open(request.eventLoop());
        } catch (ChannelException e) {
            // No socket at all (out of file descriptors, say): the proxy's failure, not the backend's.
            result.completeExceptionally(ConnectFailedException.local(address, e));
            return;
        } catch (RuntimeException e) {
            failed(e);
            result.completeExceptionally(new ConnectFailedException(address, e));
            return;
        }
        Channel channel = connect.channel();
        connect.addListener(done -> {
            if (done.isSuccess()) {
                long nanos = settings.clock().nanoTime() - start;
                stats.connected(nanos);
                settings.connectListener().connected(stats, nanos);
                channel.closeFuture().addListener(closed -> stats.disconnected());
                if (!result.complete(new BackendConnection(channel, stats))) {
                    // The client went away while we connected.
                    channel.close();
                }
            } else {
                // No socket at all (out of file descriptors, say): Netty's stand-in channel has no
                // event loop to close on, and the failure is the proxy's, not the backend's.
                boolean local = done.cause() instanceof ChannelException;
                closeQuietly(channel);
                if (!local && !done.isCancelled() && !result.isCancelled()) {
                    failed(done.cause());
                }
                result.completeExceptionally(
                        local
                                ? ConnectFailedException.local(address, done.cause())
                                : new ConnectFailedException(address, done.cause()));
            }
        });
        result.whenComplete((connection, failure) -> {
            if (failure instanceof CancellationException) {
                connect.cancel(false);
                closeQuietly(channel);
            }
        });
    }

    /**
     * Starts connecting a new socket on {@code loop}. The relay's own channels (NIO and epoll) are
     * made, configured, registered and connected directly, on the event loop when called there (as
     * the relay does): a {@link Bootstrap} would copy its option maps per connection and connect in
     * a task of its own. Other transports, and an unresolved address, go through a {@link
     * Bootstrap}.
     *
     * @throws ChannelException if no socket can be made
     */
    private ChannelFuture open(EventLoop loop) {
        // A socket of the backend address's own family: AF_INET for an IPv4 backend saves the
        // dual-stack setup (an IPV6_V6ONLY setsockopt) on every connect.
        Transport transport = settings.transport();
        boolean own = transport == Transport.NIO || transport == Transport.EPOLL;
        if (!own || address.isUnresolved()) {
            Bootstrap bootstrap = new Bootstrap().group(loop);
            switch (transport) {
                case NIO -> bootstrap.channelFactory(() -> new NioRelayChannels.RelaySocket(family));
                case EPOLL -> bootstrap.channelFactory(() -> new RelayEpollSocketChannel(family));
                default -> bootstrap.channel(transport.channelType());
            }
            return bootstrap
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, settings.connectTimeoutMillis())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .handler(NOTHING)
                    .connect(address); // resolved by the Bootstrap
        }
        Channel channel;
        SocketAddress target;
        if (transport == Transport.EPOLL) {
            channel = new RelayEpollSocketChannel(family);
            // The remote address taken as given, not asked of the kernel once connected.
            target = RelayEpollSocketChannel.connectTarget(address);
        } else {
            channel = new NioRelayChannels.RelaySocket(family);
            target = address;
        }
        try {
            ChannelConfig config = channel.config();
            config.setConnectTimeoutMillis(settings.connectTimeoutMillis());
            config.setAutoRead(false);
            config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
            config.setWriteBufferWaterMark(WATER_MARK);
            channel.pipeline().addLast(NOTHING);
        } catch (RuntimeException e) {
            channel.unsafe().closeForcibly(); // not registered yet: close the socket here
            throw e;
        }
        ChannelPromise connected = channel.newPromise();
        ChannelFuture registered = loop.register(channel);
        if (registered.isDone()) {
            connectRegistered(registered, target, connected);
        } else {
            registered.addListener((ChannelFutureListener) done -> connectRegistered(done, target, connected));
        }
        return connected;
    }

    private static void connectRegistered(ChannelFuture registered, SocketAddress target, ChannelPromise connected) {
        Channel channel = registered.channel();
        if (!registered.isSuccess()) {
            if (channel.isRegistered()) {
                channel.close();
            } else {
                channel.unsafe().closeForcibly();
            }
            connected.tryFailure(registered.cause());
            return;
        }
        channel.connect(target, connected);
    }

    /**
     * Connects a {@link DirectSocket} on {@code loop} (the caller's): a hostname is resolved first,
     * by Netty's default resolver, as a channel's connect would.
     */
    private void connectDirect(EventLoop loop, CompletableFuture<BackendConnection> result) {
        if (result.isDone()) {
            return; // cancelled before it started
        }
        long start = settings.clock().nanoTime();
        if (!address.isUnresolved()) {
            new DirectConnect(loop, address, result, start).start();
            return;
        }
        AddressResolver<InetSocketAddress> resolver = DefaultAddressResolverGroup.INSTANCE.getResolver(loop);
        resolver.resolve(address).addListener(resolved -> {
            if (resolved.isSuccess()) {
                new DirectConnect(loop, (InetSocketAddress) resolved.getNow(), result, start).start();
            } else {
                failed(resolved.cause());
                result.completeExceptionally(new ConnectFailedException(address, resolved.cause()));
            }
        });
    }

    /**
     * One connect of a direct socket: it reports to this until it is connected, fails, times out
     * or is cancelled, and then to no one until the relay that receives it takes it over (being
     * edge-triggered, the relay reads it at once then, so no event is lost in between).
     */
    private final class DirectConnect implements DirectSocket.Handler {
        private final EventLoop loop;
        private final InetSocketAddress target;
        private final CompletableFuture<BackendConnection> result;
        private final long start;
        private @Nullable DirectSocket socket;
        private io.netty.util.concurrent.@Nullable ScheduledFuture<?> timer;
        private boolean done;

        DirectConnect(
                EventLoop loop, InetSocketAddress target, CompletableFuture<BackendConnection> result, long start) {
            this.loop = loop;
            this.target = target;
            this.result = result;
            this.start = start;
        }

        void start() {
            DirectSocket opened;
            try {
                opened = DirectSocket.open(family, target);
            } catch (ChannelException e) {
                // No socket at all (out of file descriptors, say): the proxy's failure, not the backend's.
                done = true;
                result.completeExceptionally(ConnectFailedException.local(address, e));
                return;
            }
            socket = opened;
            try {
                opened.register(loop, this);
            } catch (IOException | RuntimeException e) {
                done = true;
                opened.close();
                result.completeExceptionally(ConnectFailedException.local(address, e));
                return;
            }
            try {
                if (opened.connect()) {
                    succeeded(opened, true); // at once: whether bytes came too is not known
                    return;
                }
            } catch (IOException | RuntimeException e) {
                fail(e);
                return;
            }
            timer = loop.schedule(this::timedOut, settings.connectTimeoutMillis(), TimeUnit.MILLISECONDS);
            result.whenComplete((connection, failure) -> {
                if (failure instanceof CancellationException) {
                    if (loop.inEventLoop()) {
                        cancelled();
                    } else {
                        try {
                            loop.execute(this::cancelled);
                        } catch (RejectedExecutionException e) {
                            opened.close(); // the event loop is gone: nothing else will
                        }
                    }
                }
            });
        }

        private void cancelled() {
            if (!done) {
                done = true;
                cancelTimer();
                Checks.notNull(socket, "socket").close();
            }
        }

        @Override
        public void ready(DirectSocket ready, boolean readable, boolean writable, boolean hangup) {
            if (done) {
                return;
            }
            try {
                // A connect that completed is reported as writable; one that failed, as an error
                // or hang-up, which finishConnect turns into its exception. So the kernel is asked
                // for the outcome (getsockopt SO_ERROR) only then.
                if (hangup ? ready.finishConnect() : writable) {
                    succeeded(ready, readable);
                }
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        }

        /**
         * Hands the connected socket over; {@code readable}: the kernel already reported bytes (a
         * backend that speaks first) or its FIN, in the event that completed the connect, so the
         * relay must read it at once instead of waiting for the next event.
         */
        private void succeeded(DirectSocket connected, boolean readable) {
            done = true;
            cancelTimer();
            connected.release(readable);
            long nanos = settings.clock().nanoTime() - start;
            stats.connected(nanos);
            settings.connectListener().connected(stats, nanos);
            connected.whenClosed().thenRun(stats::disconnected);
            if (!result.complete(new BackendConnection(connected, stats))) {
                connected.close(); // the client went away while we connected
            }
        }

        private void timedOut() {
            if (!done) {
                fail(new ConnectTimeoutException(
                        "connection timed out after " + settings.connectTimeoutMillis() + " ms: " + target));
            }
        }

        private void fail(Throwable cause) {
            done = true;
            cancelTimer();
            DirectSocket opened = socket;
            if (opened != null) {
                opened.close();
            }
            if (!result.isCancelled()) {
                failed(cause);
            }
            result.completeExceptionally(new ConnectFailedException(address, cause));
        }

        private void cancelTimer() {
            io.netty.util.concurrent.ScheduledFuture<?> pending = timer;
            if (pending != null) {
                pending.cancel(false);
            }
        }
    }

    /** Counts a connect failure that is the backend's (or its network's), and reports it. */
    private void failed(Throwable cause) {
        stats.connectFailed(cause);
        settings.connectListener().failed(stats, cause);
    }

    /** Closes a channel that may never have been registered (then Netty has already closed it). */
    private static void closeQuietly(Channel channel) {
        if (channel.isRegistered()) {
            channel.close();
        }
    }

    @Override
    public Readiness readiness() {
        return closed.get() ? Readiness.CLOSED : Readiness.READY;
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
        closed.set(true);
    }

    @Override
    public String toString() {
        return "BackendConnector[" + address + "]";
    }

    /** The backend channel's placeholder handler; the relay adds its own once connected. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class Nothing extends ChannelInboundHandlerAdapter {}
}
