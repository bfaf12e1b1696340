/**
 * The transport choice: which of Netty's I/O transports (io_uring, epoll, NIO) Belfry runs on, in
 * one place.
 *
 * <p>{@link dev.belfry.netty.transport.Transport#select()} reads the {@code belfry.transport} system
 * property ({@code auto}, {@code io_uring}, {@code epoll} or {@code nio}; {@code auto} when unset).
 * {@code auto} picks the best transport whose native library loads here, in the order io_uring,
 * epoll, NIO. A transport named explicitly is used or the call fails: {@link
 * java.lang.IllegalStateException} naming the setting and why the transport is unavailable, so a
 * forced choice is never silently replaced by another. An unknown name fails with {@link
 * java.lang.IllegalArgumentException} listing the valid ones.
 *
 * <p>{@link dev.belfry.netty.transport.Transport#selectForRelay()} is the rule for a process that
 * relays TCP connections with half-close passed on (the proxy): the same property when it is set,
 * but NIO when it is not, because Netty 4.2.18's epoll and io_uring transports each lose or delay
 * part of a half-closed connection (the method's documentation gives the two failures). Other
 * components take the transport of the process they run in rather than choosing their own.
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
