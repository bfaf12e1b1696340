package dev.belfry.proxy.l4;

import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
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
            Bootstrap bootstrap = new Bootstrap().group(request.eventLoop());
            // A socket of the backend address's own family: AF_INET for an IPv4 backend saves the
            // dual-stack setup (an IPV6_V6ONLY setsockopt) on every connect.
            SocketAddress target = address;
            switch (settings.transport()) {
                case NIO -> bootstrap.channelFactory(() -> new NioRelayChannels.RelaySocket(family));
                case EPOLL -> {
                    bootstrap.channelFactory(() -> new RelayEpollSocketChannel(family));
                    // The remote address taken as given, not asked of the kernel once connected.
                    target = RelayEpollSocketChannel.connectTarget(address);
                }
                default -> bootstrap.channel(settings.transport().channelType());
            }
            connect = bootstrap
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, settings.connectTimeoutMillis())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                    .handler(NOTHING)
                    .connect(target);
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
