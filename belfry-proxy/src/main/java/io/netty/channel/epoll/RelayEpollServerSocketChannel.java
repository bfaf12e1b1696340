package io.netty.channel.epoll;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
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
 * <p>Given an {@link Acceptor}, it hands accepted connections to it as {@link DirectSocket}s
 * instead, with no channel made at all, for as long as the acceptor {@linkplain Acceptor#direct()
 * asks for them}; otherwise they are channels, as above. The listener sets {@code TCP_NODELAY}
 * on itself, which Linux passes on to every socket it accepts. Accepting works as in Netty either way:
 * up to the configuration's messages per read in one go, paused while auto-read is off and no read
 * is asked for, accept errors fired down the pipeline.
 *
 * <p>It lives in Netty's package for the package-private hooks it needs (Netty's class is final).
 * Its configuration is Netty's {@link EpollServerChannelConfig}: {@code SO_BACKLOG}, {@code
 * SO_REUSEADDR}, {@code SO_RCVBUF}; TCP fast open and {@code TCP_MD5SIG} are not supported.
 */
public final class RelayEpollServerSocketChannel extends AbstractEpollServerChannel implements ServerSocketChannel {
    private final EpollServerChannelConfig config;
    // The address accepted sockets share as their local address, or null for a wildcard listener.
    private volatile @Nullable InetSocketAddress childLocal;
    private final @Nullable Acceptor acceptor;

    /** Takes accepted connections as sockets instead of channels. */
    public interface Acceptor {
        /** Whether the next accepted connection is to be a {@link DirectSocket} (else a channel). */
        boolean direct();

        /**
         * A connection was accepted, on the listener's event loop; the acceptor owns {@code socket}
         * (not registered with any event loop yet) and must close it.
         */
        void accepted(DirectSocket socket);
    }

    /** A listening socket of {@code family}, to bind; accepted connections are channels. */
    public RelayEpollServerSocketChannel(SocketProtocolFamily family) {
        this(family, null);
    }

    /**
     * A listening socket of {@code family}, to bind; accepted connections go to {@code acceptor}
     * while it asks for them, else they are channels.
     */
    public RelayEpollServerSocketChannel(SocketProtocolFamily family, @Nullable Acceptor acceptor) {
        super(LinuxSocket.newSocketStream(family), false);
        config = new EpollServerChannelConfig(this);
        this.acceptor = acceptor;
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        super.doBind(localAddress);
        // Linux copies TCP_NODELAY from a listening socket to the sockets it accepts: set once
        // here, it saves a setsockopt per accepted direct socket.
        socket.setTcpNoDelay(true);
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
    protected AbstractEpollUnsafe newUnsafe() {
        return new AcceptingUnsafe();
    }

    /** Netty's accept loop, with each accepted descriptor given to the acceptor when it asks. */
    private final class AcceptingUnsafe extends AbstractEpollUnsafe {
        // The accepted peer's address: its length in the first byte, then up to 24 bytes.
        private final byte[] acceptedAddress = new byte[26];

        @Override
        public void connect(SocketAddress remote, @Nullable SocketAddress local, ChannelPromise promise) {
            promise.setFailure(new UnsupportedOperationException("a listening socket does not connect"));
        }

        @Override
        void epollInReady() {
            ChannelConfig config = config();
            if (shouldBreakEpollInReady(config)) {
                clearEpollIn0();
                return;
            }
            EpollRecvByteAllocatorHandle allocHandle = recvBufAllocHandle();
            ChannelPipeline pipeline = pipeline();
            allocHandle.reset(config);
            allocHandle.attemptedBytesRead(1);
            Throwable failure = null;
            try {
                try {
                    do {
                        // The descriptor stands in for "bytes read", which the handle's
                        // continue-reading rule looks at.
                        allocHandle.lastBytesRead(socket.accept(acceptedAddress));
                        int fd = allocHandle.lastBytesRead();
                        if (fd == -1) {
                            break; // nothing more to accept for now
                        }
                        allocHandle.incMessagesRead(1);
                        readPending = false;
                        Acceptor to = acceptor;
                        if (to != null && to.direct()) {
                            InetSocketAddress remote =
                                    NativeInetAddress.address(acceptedAddress, 1, acceptedAddress[0]);
                            to.accepted(DirectSocket.accepted(fd, remote, childLocal));
                        } else {
                            pipeline.fireChannelRead(newChildChannel(fd, acceptedAddress, 1, acceptedAddress[0]));
                        }
                    } while (allocHandle.continueReading());
                } catch (Throwable t) {
                    failure = t;
                }
                allocHandle.readComplete();
                pipeline.fireChannelReadComplete();
                if (failure != null) {
                    pipeline.fireExceptionCaught(failure);
                }
            } finally {
                if (shouldStopReading(config)) {
                    clearEpollIn();
                }
            }
        }
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
