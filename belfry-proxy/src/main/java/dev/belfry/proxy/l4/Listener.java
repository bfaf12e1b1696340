package dev.belfry.proxy.l4;

import dev.belfry.proxy.config.ListenerConfig;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

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
}
