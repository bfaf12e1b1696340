package io.netty.channel.epoll;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.SocketProtocolFamily;
import java.io.IOException;
import java.io.Serial;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.NotYetConnectedException;
import org.jspecify.annotations.Nullable;

/**
 * Belfry's epoll socket channel for the L4 relay: Netty's {@link EpollSocketChannel} minus the
 * system calls a relay does not need on every connection.
 *
 * <p>It lives in Netty's package because the constructors and hooks it needs are package-private,
 * and Netty's own class is final (on the class path a package may span jars; Netty's jars are not
 * sealed). What differs from {@link EpollSocketChannel}, with the call each saves:
 *
 * <ul>
 *   <li>Addresses are taken, not asked: an accepted socket's remote address comes from {@code
 *       accept}, its local address is the listener's when that is a specific address (asked of the
 *       kernel only on first use for a wildcard listener); a connecting socket's remote address is
 *       the one it connects to, its local address is asked only when read. Netty asks {@code
 *       getsockname} on accept and after each {@code connect}, and {@code getpeername} after a
 *       connect completes when given an {@link InetSocketAddress}; connect to {@link
 *       #connectTarget(InetSocketAddress)} to skip that one.
 *   <li>No {@code getsockopt(SO_SNDBUF)} per socket: gathering writes start bounded at {@value
 *       #INITIAL_MAX_BYTES_PER_GATHERING_WRITE} bytes, what Netty computes from Linux's default send
 *       buffer, and adapt as in Netty.
 *   <li>No {@code setsockopt(TCP_NODELAY)} on an accepted socket: it has it from the listening
 *       socket ({@link RelayEpollServerSocketChannel} sets it, and Linux passes it on).
 *   <li>No {@code getsockopt(SO_LINGER)} before each close: {@code SO_LINGER} can only be 0 (close
 *       with a reset, which the relay uses to pass a reset on) or off, so a close never lingers.
 *   <li>A peer's FIN is recorded without {@code shutdown(SHUT_RD)}: the socket has nothing more to
 *       give once it returned end-of-stream (the call fails with {@code ENOTCONN} once both
 *       directions are done, and Netty then closes the channel). {@link #isInputShutdown()} reports
 *       it; the same events are fired as in Netty.
 *   <li>Closing closes the descriptor before Netty deregisters it, so the kernel drops it from the
 *       epoll set and Netty's {@code epoll_ctl(EPOLL_CTL_DEL)} is skipped.
 *   <li>{@link #shutdownOutputNow()} sends a FIN directly once nothing is queued, without Netty's
 *       output-shutdown bookkeeping.
 *   <li>Once a peer's FIN is read, read interest is dropped even if a read was asked for before the
 *       end-of-stream was seen: otherwise the event loop wakes up again to read it a second time.
 *   <li>An accepted socket joins the epoll set with read interest: the relay reads a client as soon
 *       as it is active (in the same event-loop task as the registration), so asking for it then
 *       would modify the set a moment after adding the socket to it. So an accepted socket with
 *       auto-read off is read once even if nobody asks: whoever accepts relay sockets must be
 *       ready to take their first bytes (the relay holds them until its backend is connected).
 * </ul>
 *
 * <p>One {@code getsockname} per socket remains, in Netty's {@code Socket} constructor (it learns
 * the socket's family that way); {@code Socket} has no other constructor.
 *
 * <p>Not supported: TCP fast open on connect, {@code TCP_MD5SIG}, a lingering close. Reads, writes,
 * writability, splice, half-closure and the epoll registration are Netty's.
 */
public final class RelayEpollSocketChannel extends AbstractEpollStreamChannel implements SocketChannel {
    /** The bound of the first gathering write, in bytes (Netty then adapts it per write). */
    public static final int INITIAL_MAX_BYTES_PER_GATHERING_WRITE = 32 * 1024;

    private final RelayEpollSocketChannelConfig config;
    private final @Nullable Channel parent;
    private volatile @Nullable InetSocketAddress local;
    private volatile @Nullable InetSocketAddress remote;
    // The peer's FIN was read: recorded here instead of by shutdown(SHUT_RD).
    private volatile boolean inputEnded;
    // An accepted socket, not registered yet: it joins the epoll set with read interest.
    private boolean readOnRegister;

    /** A socket to connect, of {@code family}. */
    public RelayEpollSocketChannel(SocketProtocolFamily family) {
        super(LinuxSocket.newSocketStream(family), false);
        this.parent = null;
        this.config = new RelayEpollSocketChannelConfig(this, false);
    }

    /** An accepted socket; {@code local} is null if the listener's address is a wildcard. */
    RelayEpollSocketChannel(
            Channel parent, LinuxSocket fd, InetSocketAddress remote, @Nullable InetSocketAddress local) {
        super(fd, false); // inactive: Netty's other constructors ask the kernel for the addresses
        this.parent = parent;
        this.remote = remote;
        this.local = local;
        this.active = true;
        this.config = new RelayEpollSocketChannelConfig(this, true);
        this.readOnRegister = true;
    }

    /**
     * The address to pass to {@code connect} for {@code address}: the connect then takes {@code
     * address} as the remote address instead of asking the kernel ({@code getpeername}) once it
     * completes.
     */
    public static SocketAddress connectTarget(InetSocketAddress address) {
        return new Target(address);
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
    public RelayEpollSocketChannelConfig config() {
        return config;
    }

    @Override
    public @Nullable ServerSocketChannel parent() {
        return (ServerSocketChannel) parent;
    }

    @Override
    protected @Nullable SocketAddress localAddress0() {
        InetSocketAddress address = local;
        if (address == null && isActive()) {
            address = socket.localAddress();
            local = address;
        }
        return address;
    }

    @Override
    protected @Nullable SocketAddress remoteAddress0() {
        return remote;
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
    protected boolean doConnect(SocketAddress remoteAddress, @Nullable SocketAddress localAddress) throws Exception {
        InetSocketAddress target = remoteAddress instanceof Target t ? t.address : (InetSocketAddress) remoteAddress;
        if (remoteAddress instanceof Target) {
            // Netty's connect path then has no InetSocketAddress to ask getpeername about.
            checkResolvable(target);
            if (remote != null) {
                throw new AlreadyConnectedException();
            }
            if (localAddress != null) {
                socket.bind(localAddress);
            }
            boolean connected = doConnect0(target);
            remote = target;
            return connected;
        }
        boolean connected = super.doConnect(target, localAddress);
        remote = target;
        return connected;
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        if (readOnRegister) {
            readOnRegister = false;
            // The relay reads a client as soon as it is active, in the same event-loop task as this
            // registration: adding the socket to the epoll set with read interest saves modifying
            // it a moment later. Set here, not at construction, because turning auto-read off
            // (as the accepting side does before registering) clears it.
            try {
                setFlag(Native.EPOLLIN); // not registered yet: only the interest set to add with
            } catch (IOException e) {
                promise.setFailure(e);
                return;
            }
        }
        super.doRegister(promise);
    }

    @Override
    protected void doClose() throws Exception {
        try {
            // Closed first, the descriptor leaves the epoll set with it; Netty's deregistration below
            // then sees it closed and makes no epoll_ctl(EPOLL_CTL_DEL) call.
            socket.close();
        } finally {
            super.doClose();
        }
    }

    /**
     * Sends the FIN now if nothing is waiting to be written, without Netty's output-shutdown
     * bookkeeping. Call on the event loop, after the last write has been flushed. Returns false if
     * writes are still queued or the socket is not open (then use {@link #shutdownOutput()}).
     */
    public boolean shutdownOutputNow() {
        ChannelOutboundBuffer queued = unsafe().outboundBuffer();
        // totalPendingWriteBytes counts written but unflushed messages too; isEmpty() does not.
        if (queued == null || queued.totalPendingWriteBytes() != 0 || !isActive()) {
            return false;
        }
        if (!socket.isOutputShutdown()) {
            try {
                socket.shutdown(false, true);
            } catch (IOException | NotYetConnectedException e) {
                return false; // ENOTCONN (a reset peer) comes unchecked from Netty
            }
        }
        return true;
    }

    @Override
    protected AbstractEpollUnsafe newUnsafe() {
        return new RelayUnsafe();
    }

    /**
     * Netty's stream unsafe without the SO_LINGER query before a close (EpollSocketChannel's unsafe
     * adds that) and without {@code shutdown(SHUT_RD)} when the peer's FIN is read.
     */
    private final class RelayUnsafe extends EpollStreamUnsafe {
        @Override
        void shutdownInput(boolean allDataRead) {
            if (!isInputShutdown()) {
                if (!config.isAllowHalfClosure()) {
                    close(voidPromise());
                    return;
                }
                inputEnded = true;
                pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                if (isOpen()) {
                    // Unlike Netty, also when a read is pending (asked for before the end-of-stream
                    // was seen): the socket has nothing more to give, and a pending read would only
                    // wake the event loop to read the end-of-stream again. After the event, since a
                    // relay often closes the channel on it, and then no epoll_ctl call is needed.
                    clearEpollIn0();
                }
            }
            if (allDataRead && !inputClosedSeenErrorOnRead) {
                inputClosedSeenErrorOnRead = true;
                pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
            }
        }
    }

    /** A connect target whose remote address is taken as given. */
    private static final class Target extends SocketAddress {
        @Serial
        private static final long serialVersionUID = 1L;

        private final InetSocketAddress address;

        Target(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public String toString() {
            return address.toString();
        }
    }
}
