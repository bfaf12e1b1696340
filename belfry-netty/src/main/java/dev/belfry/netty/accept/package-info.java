/**
 * Accept-error handling for listening sockets: {@link dev.belfry.netty.accept.AcceptErrors}, the
 * handler every Belfry server channel carries (the proxy's listeners and its admin server), which
 * keeps the socket open when accepting a connection fails (out of file descriptors, for one) and
 * logs the failures at most once per ten seconds with a count of those suppressed.
 *
 * <pre>{@code
 * new ServerBootstrap()
 *         .group(loops)
 *         .channel(transport.serverChannelType())
 *         .handler(new AcceptErrors("listener web", clock))   // one instance per server channel
 *         .childHandler(...);
 * }</pre>
 *
 * <p>Netty's acceptor still sees each failure first and, on NIO, pauses accepting for a second;
 * this handler only stops the failure from reaching the pipeline's end, where Netty would log every
 * one. Logging goes through SLF4J, logger {@code dev.belfry.netty.accept.AcceptErrors}.
 */
@NullMarked
package dev.belfry.netty.accept;

import org.jspecify.annotations.NullMarked;
