package dev.belfry.channel.socket;

import dev.belfry.Checks;
import dev.belfry.netty.transport.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.uring.IoUringDomainSocketChannel;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Unix domain sockets on {@code belfry-netty}'s transports: the channel classes and the address
 * form each transport connects with, so a connector opens a {@code unix:} address on whatever
 * transport the process runs (epoll and io_uring through Netty's native {@code
 * DomainSocketAddress}, NIO through the JDK's {@link UnixDomainSocketAddress}).
 *
 * <pre>{@code
 * Transport transport = Transport.select();
 * new Bootstrap().group(group)
 *         .channel(DomainSockets.channelType(transport, address))      // TCP or unix, by the address
 *         .connect(DomainSockets.connectAddress(transport, address));
 * }</pre>
 *
 * <p>Addresses in pools are {@link UnixDomainSocketAddress}es (made by {@link SocketTarget} from
 * {@code unix:/path}); every method also takes {@link java.net.InetSocketAddress}es and gives the
 * transport's TCP classes for them. Stateless and thread-safe.
 */
public final class DomainSockets {
    /** The longest socket path the kernel takes ({@code sun_path} is 108 bytes with the terminating zero). */
    public static final int MAX_PATH_BYTES = 107;

    private DomainSockets() {}

    /**
     * The address of the socket at {@code path}.
     *
     * @throws IllegalArgumentException if the path is empty or longer than {@value #MAX_PATH_BYTES}
     *     bytes, which no socket can be bound to
     */
    public static UnixDomainSocketAddress address(String path) {
        Checks.notNull(path, "path");
        if (path.isEmpty()) {
            throw new IllegalArgumentException("a unix socket path must not be empty");
        }
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("unix socket path '" + path + "' is " + bytes
                    + " bytes; the kernel takes at most " + MAX_PATH_BYTES + " (use a shorter directory)");
        }
        return UnixDomainSocketAddress.of(Path.of(path));
    }

    /** Whether {@code address} is a unix domain socket address (of the JDK's or Netty's kind). */
    public static boolean isDomainSocket(SocketAddress address) {
        return address instanceof UnixDomainSocketAddress || address instanceof DomainSocketAddress;
    }

    /**
     * The client channel class of {@code transport} for {@code address}: its domain socket channel
     * for a unix address, its TCP channel otherwise.
     */
    public static Class<? extends Channel> channelType(Transport transport, SocketAddress address) {
        Checks.notNull(transport, "transport");
        Checks.notNull(address, "address");
        if (!isDomainSocket(address)) {
            return transport.channelType();
        }
        ensureAvailable(transport);
        return switch (transport) {
            case IO_URING -> IoUringDomainSocketChannel.class;
            case EPOLL -> EpollDomainSocketChannel.class;
            case NIO -> NioDomainSocketChannel.class;
        };
    }

    /** The server (listening) domain socket channel class of {@code transport}. */
    public static Class<? extends ServerChannel> serverChannelType(Transport transport) {
        Checks.notNull(transport, "transport");
        ensureAvailable(transport);
        return switch (transport) {
            case IO_URING -> IoUringServerDomainSocketChannel.class;
            case EPOLL -> EpollServerDomainSocketChannel.class;
            case NIO -> NioServerDomainSocketChannel.class;
        };
    }

    /**
     * {@code address} in the form {@code transport}'s channels connect (and bind) with: Netty's
     * {@link DomainSocketAddress} for epoll and io_uring, the JDK's {@link UnixDomainSocketAddress}
     * for NIO; any other address unchanged.
     */
    public static SocketAddress connectAddress(Transport transport, SocketAddress address) {
        Checks.notNull(transport, "transport");
        Checks.notNull(address, "address");
        if (transport == Transport.NIO) {
            return address instanceof DomainSocketAddress netty ? UnixDomainSocketAddress.of(netty.path()) : address;
        }
        return address instanceof UnixDomainSocketAddress jdk
                ? new DomainSocketAddress(jdk.getPath().toString())
                : address;
    }

    private static void ensureAvailable(Transport transport) {
        if (!transport.isAvailable()) {
            throw new IllegalStateException("unix: addresses need a transport with domain sockets, and the "
                    + transport.setting() + " transport is not available here; set " + Transport.PROPERTY
                    + "=nio (or auto) to use NIO's");
        }
    }
}
