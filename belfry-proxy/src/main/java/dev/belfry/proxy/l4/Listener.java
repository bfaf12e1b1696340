package dev.belfry.proxy.l4;

import dev.belfry.proxy.config.ListenerConfig;
import dev.belfry.time.Clock;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One bound listener: its server channel, its current settings (replaced on reload without
 * rebinding) and its counters.
 */
final class Listener {
    private volatile ListenerConfig config;
    private final ListenerStats stats;
    private volatile @Nullable Channel server;

    Listener(ListenerConfig config, ListenerStats stats) {
        this.config = config;
        this.stats = stats;
    }

    ListenerConfig config() {
        return config;
    }

    void config(ListenerConfig next) {
        this.config = next;
    }

    ListenerStats stats() {
        return stats;
    }

    @Nullable
    Channel server() {
        return server;
    }

    void bound(Channel channel) {
        this.server = channel;
        if (channel.localAddress() instanceof InetSocketAddress address) {
            stats.address(address);
        }
    }

    /** Stops accepting: closes the server socket; open connections are not touched. */
    void unbind() {
        Channel channel = server;
        if (channel != null) {
            channel.close().syncUninterruptibly();
            if (channel instanceof io.netty.channel.socket.nio.NioServerSocketChannel) {
                // Java NIO closes a socket registered with a selector only at that selector's next
                // select, so the port would still accept (and refuse to be bound again) for a moment.
                // A task scheduled a little ahead runs only after the event loop has selected again.
                channel.eventLoop().schedule(() -> {}, 5, TimeUnit.MILLISECONDS).syncUninterruptibly();
            }
        }
    }

    /**
     * Logs accept failures on the server channel, at most once per interval with the number
     * suppressed, and keeps the channel open.
     *
     * <p>Added behind Netty's acceptor (when the channel becomes active), so the acceptor sees each
     * failure first and pauses accepting for a second, which is what keeps a process that ran out of
     * file descriptors from spinning on accept; this handler only keeps the log readable and stops
     * the failure from reaching the pipeline's end.
     */
    static final class AcceptErrors extends ChannelInboundHandlerAdapter {
        private static final Logger LOG = LoggerFactory.getLogger(Listener.class);
        private static final long INTERVAL_NANOS = 10_000_000_000L;

        private final String name;
        private final Clock clock;
        private long lastLogged = Long.MIN_VALUE;
        private long suppressed;

        AcceptErrors(String name, Clock clock) {
            this.name = name;
            this.clock = clock;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.pipeline().addLast(new Log());
            ctx.fireChannelActive();
        }

        /** The tail handler that does the logging. */
        private final class Log extends ChannelInboundHandlerAdapter {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                long now = clock.nanoTime();
                if (lastLogged == Long.MIN_VALUE || now - lastLogged >= INTERVAL_NANOS) {
                    LOG.warn(
                            "listener {}: accepting a connection failed ({} similar failures suppressed); still listening: {}",
                            name,
                            suppressed,
                            cause.toString());
                    lastLogged = now;
                    suppressed = 0;
                } else {
                    suppressed++;
                }
            }
        }
    }
}
