/**
 * The L4 (TCP) proxy: listeners that relay each client connection to a backend of a cluster.
 *
 * <pre>
 *   client ──▶ listener (max connections, PROXY header in) ──▶ relay ──▶ Cluster.connect
 *                                          (the cluster stack, dev.belfry.proxy.cluster)
 *                                                               │   RetryElsewhere (another backend)
 *                                                               │    └▶ Balancer (strategy)
 *                                                               │        └▶ HealthChecked (checks, ejection)
 *                                                               │            └▶ ConcurrencyLimit (held until close)
 *                                                               │                └▶ BackendConnector (connect)
 *                                                               ◀── BackendConnection (same event loop)
 *   bytes: client ⇄ relay ⇄ backend, a side read only while the other takes what it is given
 * </pre>
 *
 * <p>{@link dev.belfry.proxy.l4.L4Proxy} is the engine, built from a {@link
 * dev.belfry.proxy.config.ProxyConfig}. A backend is a {@code Service<ConnectRequest,
 * BackendConnection>}: balancing, the per-backend connection limit, health and passive ejection are
 * core layers; connect failures ({@link dev.belfry.proxy.l4.ConnectFailedException}, unprocessed)
 * are retried on another backend, so the client never notices a refused backend while another one
 * answers.
 *
 * <p><b>Relay.</b> Both sockets of a connection share one event loop. A side is read only while
 * the other side takes what it is given, so a slow reader costs at most 64 KiB plus one read per
 * direction. A FIN is passed on as a half close; the connection closes when both directions have
 * ended, on the listener's idle timeout, or when the engine closes. A reset or I/O error on one
 * side is passed on as a reset of the other, so a stream cut short never looks whole. One INFO line
 * per closed connection goes to the {@code dev.belfry.proxy.l4.connections} logger with the bytes
 * each way, the duration, the backend and the reason. There are two relays with these semantics:
 *
 * <ul>
 *   <li>{@code DirectRelay}, on epoll (the default transport on Linux): no Netty channels. The
 *       listener ({@code io.netty.channel.epoll.RelayEpollServerSocketChannel}) hands each accepted
 *       connection over as an {@code io.netty.channel.epoll.DirectSocket}, the backend connector
 *       connects another, and both are registered once, edge-triggered, with the event loop
 *       through Netty 4.2's {@code IoHandle} API: no pipeline, promise, outbound buffer or read
 *       allocator per connection, one {@code epoll_ctl} per socket. Bytes go from one socket to
 *       the other through the event loop's scratch buffer; what a socket cannot take at once is
 *       held for it. A listener that expects a PROXY header, and every listener when {@code
 *       -Dbelfry.relay=channels} is set, uses the channel relay instead.
 *   <li>{@code Relay}, on channels: for NIO and the other transports, and for PROXY headers in.
 *       Auto-read is off and a side is read only while the other side's channel is writable. On
 *       epoll the channels are Belfry's {@code RelayEpollSocketChannel}, Netty's epoll channel
 *       without the per-connection queries and calls a relay does not need; on NIO they are {@code
 *       NioRelayChannels}. One handler class serves both sides (one instance per channel); the
 *       PROXY header has its own handler ahead of the client side. It is tested over two {@code
 *       EmbeddedChannel}s ({@code RelayBytesTest}), the PROXY intake over one ({@code
 *       RelayProxyHeaderTest}).
 * </ul>
 *
 * <p>Both are tested over real sockets by {@code L4ProxyTest}, on the default transport (and on
 * another with {@code BELFRY_TEST_TRANSPORT}).
 * A relay sees the engine only through {@code RelayEngine} (admission, the cluster, the clock, the
 * register of open relays), which the engine implements privately; it reads time only from that
 * clock.
 *
 * <p><b>Errors.</b> A client whose connection finds no backend (none admitted it within the
 * connect timeout, or every try failed) is closed and counted; a client that sends a malformed
 * PROXY header, the wrong version, or none within the listener's {@code proxy_protocol_timeout}
 * (default 5 s) is closed and counted. Accept
 * failures (such as running out of file descriptors) are logged at most once per 10 s and the
 * listener keeps listening.
 *
 * <p><b>Thread-safety.</b> The engine's control methods are serialised; counters are thread-safe;
 * each relay is confined to its event loop.
 */
@NullMarked
package dev.belfry.proxy.l4;

import org.jspecify.annotations.NullMarked;
