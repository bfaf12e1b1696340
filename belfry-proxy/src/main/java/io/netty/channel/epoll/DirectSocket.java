package io.netty.channel.epoll;

import io.netty.channel.ChannelException;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.NotYetConnectedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP socket of the L4 relay driven straight from Netty's epoll event loop, without a {@code
 * Channel}: no pipeline, promise, outbound buffer or read allocator per connection. It is Netty
 * 4.2's {@code IoHandle} API over Netty's own native socket.
 *
 * <p>A socket joins its event loop's epoll set once, edge-triggered, with read, write and
 * peer-shutdown interest, and keeps that set until it closes: one {@code epoll_ctl} per socket. Its
 * {@link Handler} is told each time the kernel reports a change; being edge-triggered, the handler
 * must read until {@link #read} says the socket is drained (or remember that it stopped early) and
 * write until {@link #write} takes less than it was given, then wait for the next event. The
 * descriptor is closed before its registration is cancelled, so the kernel drops it from the set
 * and no {@code EPOLL_CTL_DEL} is made.
 *
 * <p>It lives in Netty's package because Netty's {@code LinuxSocket} is package-private. Every
 * method but {@link #close()}, {@link #whenClosed()}, {@link #isClosed()} and the address getters
 * must be called on the socket's event loop.
 */
public final class DirectSocket implements EpollIoHandle {
    /** What a socket reports to. */
    public interface Handler {
        /**
         * The kernel reported a change on {@code socket}: {@code readable} when there may be bytes,
         * an end-of-stream or an error to read; {@code writable} when the send buffer has room again
         * or the socket failed (a write then says how); {@code hangup} when the peer has shut its
         * side or the socket failed (read it to the end, not only to a short read).
         */
        void ready(DirectSocket socket, boolean readable, boolean writable, boolean hangup);
    }

    private static final Logger LOG = LoggerFactory.getLogger(DirectSocket.class);

    private static final EpollIoOps INTEREST = EpollIoOps.EPOLLET
            .with(EpollIoOps.EPOLLIN)
            .with(EpollIoOps.EPOLLOUT)
            .with(EpollIoOps.EPOLLRDHUP);

    // epoll's "hung up" bit (both directions closed), which the kernel always reports.
    private static final int EPOLLHUP = 0x010;

    private final LinuxSocket socket;
    private final @Nullable InetSocketAddress remote;
    private volatile @Nullable InetSocketAddress local;
    private volatile @Nullable EventLoop loop;
    private volatile @Nullable IoRegistration registration;
    private @Nullable Handler handler;
    private @Nullable CompletableFuture<Void> closeFuture;
    private volatile boolean closed;
    // An event came while no handler was set.
    private boolean unclaimed;

    private DirectSocket(LinuxSocket socket, @Nullable InetSocketAddress remote, @Nullable InetSocketAddress local) {
        this.socket = socket;
        this.remote = remote;
        this.local = local;
    }

    /**
     * A new socket of {@code family}, not connected and not registered, with {@code TCP_NODELAY}
     * set.
     *
     * @throws ChannelException if the kernel gives no socket (out of file descriptors, say)
     */
    public static DirectSocket open(SocketProtocolFamily family, InetSocketAddress remote) {
        LinuxSocket socket = LinuxSocket.newSocketStream(family);
        try {
            socket.setTcpNoDelay(true);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new ChannelException("cannot set TCP_NODELAY on a new socket", e);
        }
        return new DirectSocket(socket, remote, null);
    }

    /**
     * An accepted socket: descriptor {@code fd}, whose peer is {@code remote}; {@code local} is its
     * own address when known (null: asked of the kernel when first read). Its options are what it
     * took from the listening socket ({@code TCP_NODELAY} among them, on Linux).
     */
    static DirectSocket accepted(int fd, InetSocketAddress remote, @Nullable InetSocketAddress local) {
        return new DirectSocket(new LinuxSocket(fd), remote, local);
    }

    /** Whether {@code TCP_NODELAY} is set, asked of the kernel: for tests. */
    boolean isTcpNoDelay() throws IOException {
        return socket.isTcpNoDelay();
    }

    /**
     * Joins {@code loop}'s epoll set, reporting to {@code handler}. Call on {@code loop}, once.
     *
     * @throws IOException if the socket cannot be registered
     */
    public void register(EventLoop loop, Handler handler) throws IOException {
        if (registration != null) {
            throw new IllegalStateException("already registered");
        }
        if (!(loop instanceof IoEventLoop io)) {
            throw new IllegalArgumentException("not an epoll event loop: " + loop);
        }
        this.handler = handler;
        this.loop = loop;
        Future<IoRegistration> registered = io.register(this);
        // On its own event loop, registration completes at once.
        IoRegistration done = registered.getNow();
        if (done == null) {
            Throwable cause = registered.cause();
            throw new IOException("cannot register a socket with the event loop", cause);
        }
        registration = done;
        done.submit(INTEREST);
    }

    /**
     * Reports to no one until {@link #claim} (events meanwhile are remembered). {@code readable}:
     * the last handler was told the socket is readable and did not read it, so {@link #claim} is to
     * say so. Call on the socket's event loop.
     */
    public void release(boolean readable) {
        this.handler = null;
        this.unclaimed = readable;
    }

    /**
     * Reports to {@code next} from now on; returns whether the kernel reported anything while no
     * one was told (the new handler must then look: being edge-triggered, it is not told again).
     * Call on the socket's event loop.
     */
    public boolean claim(Handler next) {
        this.handler = next;
        boolean missed = unclaimed;
        unclaimed = false;
        return missed;
    }

    /**
     * Starts connecting to the socket's remote address; true if it connected at once, false if
     * it is in progress ({@link Handler#ready} with {@code writable} then calls {@link
     * #finishConnect}).
     *
     * @throws IOException if the connect fails at once
     */
    public boolean connect() throws IOException {
        InetSocketAddress target = remote;
        if (target == null) {
            throw new IllegalStateException("no address to connect to");
        }
        try {
            return socket.connect(target);
        } catch (NotYetConnectedException e) {
            throw notConnected("connect", e);
        }
    }

    /**
     * Whether a connect in progress has completed: false if it is still in progress.
     *
     * @throws IOException if it failed (refused, unreachable)
     */
    public boolean finishConnect() throws IOException {
        try {
            return socket.finishConnect();
        } catch (NotYetConnectedException e) {
            throw notConnected("finishConnect", e);
        }
    }

    /**
     * Reads at most {@code length} bytes into native memory at {@code address}: the count read, 0
     * if there is nothing to read now (the socket is drained: wait for the next event), or -1 at
     * the end of the stream (the peer's FIN).
     *
     * @throws IOException on a reset or another error
     */
    public int read(long address, int length) throws IOException {
        try {
            return socket.recvAddress(address, 0, length);
        } catch (NotYetConnectedException e) {
            throw notConnected("recv", e);
        }
    }

    /**
     * Writes at most {@code length} bytes from native memory at {@code address}: the count taken,
     * which is less than {@code length} (maybe 0) once the send buffer is full.
     *
     * @throws IOException on a reset, a write after the peer closed, or another error
     */
    public int write(long address, int length) throws IOException {
        try {
            return socket.sendAddress(address, 0, length);
        } catch (NotYetConnectedException e) {
            throw notConnected("send", e);
        }
    }

    /**
     * Sends a FIN: the output is shut, the input stays open.
     *
     * @throws IOException if the socket is no longer connected
     */
    public void shutdownOutput() throws IOException {
        try {
            socket.shutdown(false, true);
        } catch (NotYetConnectedException e) {
            throw notConnected("shutdown", e);
        }
    }

    /** Makes {@link #close()} send a reset instead of a FIN ({@code SO_LINGER} 0); false if it cannot. */
    public boolean resetOnClose() {
        try {
            socket.setSoLinger(0);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The peer's address: given by {@code accept}, or the address connected to. */
    public @Nullable InetSocketAddress remoteAddress() {
        return remote;
    }

    /** The socket's own address (asked of the kernel on first use when not known). */
    public @Nullable InetSocketAddress localAddress() {
        InetSocketAddress address = local;
        if (address == null && !closed) {
            address = socket.localAddress();
            local = address;
        }
        return address;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Completes once the socket is closed. Made on first call: a socket nobody waits on costs no
     * future.
     */
    public synchronized CompletableFuture<Void> whenClosed() {
        CompletableFuture<Void> future = closeFuture;
        if (future == null) {
            future = new CompletableFuture<>();
            closeFuture = future;
            if (closed) {
                future.complete(null);
            }
        }
        return future;
    }

    @Override
    public FileDescriptor fd() {
        return socket;
    }

    @Override
    public void handle(IoRegistration ignored, IoEvent event) {
        Handler to = handler;
        if (closed) {
            return;
        }
        if (to == null) {
            unclaimed = true;
            return;
        }
        int ops = ((EpollIoEvent) event).ops().value();
        boolean failed = (ops & (Native.EPOLLERR | EPOLLHUP)) != 0;
        boolean hangup = failed || (ops & Native.EPOLLRDHUP) != 0;
        try {
            to.ready(this, hangup || (ops & Native.EPOLLIN) != 0, failed || (ops & Native.EPOLLOUT) != 0, hangup);
        } catch (RuntimeException e) {
            // A defect in the handler: closing the socket ends its connection (its owner sees the
            // close), where letting it reach Netty's event loop would make the loop pause for a
            // second, every connection on it with it.
            LOG.error("closing {}: its handler failed", this, e);
            close();
        }
    }

    /**
     * Closes the socket: the descriptor first, so that the kernel drops it from the epoll set, then
     * the registration. From any thread: a registered socket is closed on its event loop (so that
     * its descriptor number cannot be reused by a socket registered there before this registration
     * is cancelled), at once if that loop has shut down.
     */
    @Override
    public void close() {
        EventLoop own = loop;
        if (own != null && !own.inEventLoop() && !closed) {
            try {
                own.execute(this::close);
                return;
            } catch (RejectedExecutionException e) {
                // The event loop has shut down and closed its epoll set: close here.
            }
        }
        CompletableFuture<Void> future;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            future = closeFuture;
        }
        closeQuietly(socket);
        IoRegistration registered = registration;
        if (registered != null && own != null && own.inEventLoop()) {
            registered.cancel();
        }
        if (future != null) {
            future.complete(null);
        }
    }

    /**
     * Netty reports {@code ENOTCONN} as an unchecked {@link NotYetConnectedException}; it is an I/O
     * error like the others here (a socket whose peer has reset it, say), so it is thrown as one.
     */
    private static IOException notConnected(String call, NotYetConnectedException e) {
        return new IOException(call + "(..) failed: the socket is not connected (reset by its peer?)", e);
    }

    private static void closeQuietly(LinuxSocket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing: the descriptor is released either way.
        }
    }

    @Override
    public String toString() {
        return "DirectSocket[" + remote + (closed ? ", closed]" : "]");
    }
}
