package dev.belfry.proxy.l4;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.epoll.RelayEpollSocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The relay's NIO channels: Netty's NIO socket channels minus the system calls and exceptions a
 * relay does not need on every connection.
 *
 * <ul>
 *   <li>A peer's FIN is recorded without {@code shutdown(SHUT_RD)}: the socket has nothing more to
 *       give once it returned end-of-stream, and the call costs a system call per side.
 *   <li>{@link RelaySocket#shutdownOutputNow} sends the FIN directly once nothing is queued,
 *       without Netty's output-shutdown bookkeeping, which creates an exception (with its stack
 *       trace) on every call to fail writes that a relay never queues after its FIN.
 *   <li>No {@code SO_LINGER} query before each close (the relay never sets it).
 *   <li>Sockets of the address's own family: an IPv4 listener or backend gets an {@code AF_INET}
 *       socket instead of a dual-stack IPv6 one.
 * </ul>
 *
 * <p>Everything else, reads, writes, writability, closing, is Netty's.
 */
final class NioRelayChannels {
    private NioRelayChannels() {}

    static SocketProtocolFamily family(@Nullable InetSocketAddress address) {
        return address != null && address.getAddress() instanceof Inet4Address
                ? SocketProtocolFamily.INET
                : SocketProtocolFamily.INET6;
    }

    /**
     * Closes {@code channel}'s output now if it is a relay socket (this class's, or the epoll
     * transport's {@link RelayEpollSocketChannel}) with nothing queued; else false.
     */
    static boolean shutdownOutputNow(Channel channel) {
        if (channel instanceof RelaySocket socket) {
            return socket.shutdownOutputNow();
        }
        return channel instanceof RelayEpollSocketChannel socket && socket.shutdownOutputNow();
    }

    /** A listening socket whose accepted connections are {@link RelaySocket}s. */
    static final class RelayServerSocket extends NioServerSocketChannel {
        RelayServerSocket(SocketProtocolFamily family) {
            super(SelectorProvider.provider(), family);
        }

        @Override
        protected int doReadMessages(List<Object> buf) throws Exception {
            SocketChannel accepted = javaChannel().accept();
            if (accepted == null) {
                return 0;
            }
            try {
                buf.add(new RelaySocket(this, accepted));
                return 1;
            } catch (RuntimeException e) {
                try {
                    accepted.close();
                } catch (IOException ignored) {
                    // Already failing: the accept error is the one to report.
                }
                throw e;
            }
        }
    }

    /** A connected or connecting relay socket. */
    static final class RelaySocket extends NioSocketChannel {
        private boolean inputEnded;

        RelaySocket(SocketProtocolFamily family) {
            super(SelectorProvider.provider(), family);
        }

        RelaySocket(Channel parent, SocketChannel accepted) {
            super(parent, accepted);
        }

        @Override
        protected AbstractNioUnsafe newUnsafe() {
            // Netty's NIO socket unsafe differs from this one only in asking SO_LINGER before each close.
            return new NioByteUnsafe() {};
        }

        @Override
        public boolean isInputShutdown() {
            return inputEnded || super.isInputShutdown();
        }

        @Override
        public boolean isShutdown() {
            return isInputShutdown() && isOutputShutdown();
        }

        @Override
        public ChannelFuture shutdownInput() {
            return shutdownInput(newPromise());
        }

        @Override
        public ChannelFuture shutdownInput(ChannelPromise promise) {
            if (eventLoop().inEventLoop()) {
                inputEnded = true;
                return promise.setSuccess();
            }
            eventLoop().execute(() -> {
                inputEnded = true;
                promise.setSuccess();
            });
            return promise;
        }

        /**
         * Sends the FIN now if nothing is waiting to be written, without Netty's bookkeeping. Call on
         * the event loop, after the last write has been flushed. Returns false if writes are still
         * queued or the socket is not open (then use {@link #shutdownOutput()}).
         */
        boolean shutdownOutputNow() {
            ChannelOutboundBuffer queued = unsafe().outboundBuffer();
            // totalPendingWriteBytes counts written but unflushed messages too; isEmpty() does not.
            if (queued == null || queued.totalPendingWriteBytes() != 0 || !isActive()) {
                return false;
            }
            if (!javaChannel().socket().isOutputShutdown()) {
                try {
                    javaChannel().shutdownOutput();
                } catch (IOException e) {
                    return false;
                }
            }
            return true;
        }
    }
}
