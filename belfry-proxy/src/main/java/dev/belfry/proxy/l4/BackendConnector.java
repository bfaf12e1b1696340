package dev.belfry.proxy.l4;

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
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.RelayEpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One backend as a service: each call opens a TCP connection to it on the request's event loop and
 * completes with the connected channel.
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
