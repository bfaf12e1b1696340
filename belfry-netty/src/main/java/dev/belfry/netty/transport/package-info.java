/**
 * The transport choice: which of Netty's I/O transports (io_uring, epoll, NIO) Belfry runs on, in
 * one place.
 *
 * <p>{@link dev.belfry.netty.transport.Transport#select()} reads the {@code belfry.transport} system
 * property ({@code auto}, {@code io_uring}, {@code epoll} or {@code nio}; {@code auto} when unset).
 * {@code auto} picks the best transport whose native library loads here, in the order epoll,
 * io_uring, NIO (epoll first: the more proven native transport, and the one that runs where
 * io_uring is blocked, as under Docker's default seccomp profile). A transport named explicitly is used or the call fails: {@link
 * java.lang.IllegalStateException} naming the setting and why the transport is unavailable, so a
 * forced choice is never silently replaced by another. An unknown name fails with {@link
 * java.lang.IllegalArgumentException} listing the valid ones.
 *
 * <p>{@link dev.belfry.netty.transport.Transport#selectForRelay()} is the rule for a process that
 * relays TCP connections with half-close passed on (the proxy): the transport the property names,
 * or epoll (else NIO) when it is unset or {@code auto}; not io_uring unless named, because Netty
 * 4.2.18's io_uring transport notices a reset of a peer the relay has paused reading only at the
 * idle timeout. Other components take the transport of the process they run in rather than
 * choosing their own.
 *
 * <p>The epoll transport's event loops carry a workaround for a defect of Netty 4.2.18: its epoll
 * registration removes a socket from the epoll set when the socket's interest set becomes empty
 * (which happens once a half-closed peer's FIN has been read with auto-read off) and later fails
 * with {@code epoll_ctl: ENOENT} when it asks for events again, losing a write that had to wait.
 * {@code EpollRegistrations} keeps such a socket in the set, edge-triggered with no interest.
 * The same wrapper skips an interest set equal to the one in force and holds a narrowed one until
 * the loop next waits on epoll, saving {@code epoll_ctl} calls.
 *
 * <p>The chosen {@link dev.belfry.netty.transport.Transport} creates event-loop groups (Netty 4.2's
 * {@code MultiThreadIoEventLoopGroup} with the transport's {@code IoHandlerFactory}) and names the
 * server, client and datagram channel classes that register with them; mixing transports between a
 * group and a channel fails in Netty, so components take both from the same constant.
 *
 * <p><b>Thread-safety.</b> The constants hold no state; availability is computed once by Netty.
 */
@NullMarked
package dev.belfry.netty.transport;

import org.jspecify.annotations.NullMarked;
