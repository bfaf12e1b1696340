package dev.belfry.proxy.l4;

import dev.belfry.Futures;
import dev.belfry.Readiness;
import dev.belfry.Service;
import dev.belfry.ServiceClosedException;
import dev.belfry.limit.Permits;
import dev.belfry.netty.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketProtocolFamily;
import java.net.InetSocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One backend as a service: each call opens a TCP connection to it on the request's event loop and
 * completes with the connected channel.
 *
 * <p>A permit of the backend's {@link Permits} is taken per connection and held until the channel
 * closes, so the limit counts open connections, not connects in flight: {@link #tryCall} refuses
 * at the limit (the balancer then picks another backend) and {@link #call} waits for a permit. It
 * also refuses a request that was already sent here when the request asks to avoid repeats (a
 * connect retry). A failed connect fails with {@link ConnectFailedException}. Cancelling the
 * future abandons the connect and closes the channel. {@link #close} only stops new connects:
 * connections already handed out belong to their relays. Thread-safe.
 */
final class BackendConnector implements Service<ConnectRequest, BackendConnection> {
    private static final ChannelInboundHandlerAdapter NOTHING = new Nothing();

    private final InetSocketAddress address;
    private final BackendStats stats;
    private final Permits permits;
    private final ClusterSettings settings;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SocketProtocolFamily family;

    BackendConnector(InetSocketAddress address, BackendStats stats, Permits permits, ClusterSettings settings) {
        this.address = address;
        this.stats = stats;
        this.permits = permits;
        this.settings = settings;
        this.family = NioRelayChannels.family(address);
    }

    @Override
    public CompletableFuture<BackendConnection> call(ConnectRequest request) {
        if (closed.get()) {
            return Futures.failed(new ServiceClosedException("backend " + address + " was removed"));
        }
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        if (permits.tryAcquire()) {
            connect(request, result);
            return result;
        }
        CompletableFuture<Void> permit = permits.acquire();
        permit.whenComplete((ignored, failure) -> {
            if (failure != null) {
                Futures.completeFrom(result, null, failure);
            } else if (result.isDone()) {
                permits.release();
            } else {
                connect(request, result);
            }
        });
        Futures.propagateCancellation(result, permit);
        return result;
    }

    @Override
    public @Nullable CompletableFuture<BackendConnection> tryCall(ConnectRequest request) {
        if (closed.get() || request.refuses(address) || !permits.tryAcquire()) {
            return null;
        }
        CompletableFuture<BackendConnection> result = new CompletableFuture<>();
        connect(request, result);
        return result;
    }

    /** Connects with a permit held; the permit goes back once, when the channel closes or never opens. */
    private void connect(ConnectRequest request, CompletableFuture<BackendConnection> result) {
        request.attempted(address);
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                permits.release();
            }
        };
        long start = settings.clock().nanoTime();
        ChannelFuture connect;
        try {
            Bootstrap bootstrap = new Bootstrap().group(request.eventLoop());
            if (settings.transport() == Transport.NIO) {
                bootstrap.channelFactory(() -> new NioRelayChannels.RelaySocket(family));
            } else {
                bootstrap.channel(settings.transport().channelType());
            }
            connect = bootstrap
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, settings.connectTimeoutMillis())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, L4Proxy.WATER_MARK)
                    .handler(NOTHING)
                    .connect(address);
        } catch (RuntimeException e) {
            release.run();
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
                channel.closeFuture().addListener(closed -> {
                    stats.disconnected();
                    release.run();
                });
                if (!result.complete(new BackendConnection(channel, stats))) {
                    // The client went away while we connected.
                    channel.close();
                }
            } else {
                release.run();
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
        if (closed.get()) {
            return Readiness.CLOSED;
        }
        return permits.available() > 0 ? Readiness.READY : Readiness.BUSY;
    }

    @Override
    public CompletionStage<Void> whenReady() {
        return closed.get() ? CompletableFuture.completedFuture(null) : permits.whenAvailable();
    }

    @Override
    public void close() {
        closed.set(true);
    }

    @Override
    public String toString() {
        return "BackendConnector[" + address + ", " + permits + "]";
    }

    /** The backend channel's placeholder handler; the relay adds its own once connected. */
    @io.netty.channel.ChannelHandler.Sharable
    private static final class Nothing extends ChannelInboundHandlerAdapter {}
}
