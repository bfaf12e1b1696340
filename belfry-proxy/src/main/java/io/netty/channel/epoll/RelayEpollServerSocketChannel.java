package io.netty.channel.epoll;

import io.netty.channel.Channel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.NativeInetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * Belfry's epoll listening socket for the L4 relay: Netty's {@link EpollServerSocketChannel} whose
 * accepted connections are {@link RelayEpollSocketChannel}s, given their addresses instead of
 * asking the kernel for them: the remote address from {@code accept}, the local address from this
 * listener when it listens on a specific address.
 *
 * <p>It lives in Netty's package for the package-private hooks it needs (Netty's class is final).
 * Its configuration is Netty's {@link EpollServerChannelConfig}: {@code SO_BACKLOG}, {@code
 * SO_REUSEADDR}, {@code SO_RCVBUF}; TCP fast open and {@code TCP_MD5SIG} are not supported.
 */
public final class RelayEpollServerSocketChannel extends AbstractEpollServerChannel implements ServerSocketChannel {
    private final EpollServerChannelConfig config;
    // The address accepted sockets share as their local address, or null for a wildcard listener.
    private volatile @Nullable InetSocketAddress childLocal;

    /** A listening socket of {@code family}, to bind. */
    public RelayEpollServerSocketChannel(SocketProtocolFamily family) {
        super(LinuxSocket.newSocketStream(family), false);
        config = new EpollServerChannelConfig(this);
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        super.doBind(localAddress);
        socket.listen(config.getBacklog());
        InetSocketAddress bound = (InetSocketAddress) localAddress0();
        childLocal = bound != null && !bound.getAddress().isAnyLocalAddress() ? bound : null;
        active = true;
        // Listening now: submit the ops so that connections are accepted.
        submitCurrentOps();
    }

    @Override
    protected Channel newChildChannel(int fd, byte[] address, int offset, int len) throws Exception {
        return new RelayEpollSocketChannel(
                this, new LinuxSocket(fd), NativeInetAddress.address(address, offset, len), childLocal);
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) super.remoteAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    public EpollServerChannelConfig config() {
        return config;
    }
}
